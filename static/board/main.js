/* The live board client: plain ES modules, no build step.
 *
 * It keeps the server's view of the board (store.js: a snapshot, then the parts each event
 * replaced), draws from the page's <template>s only the sections those parts feed
 * (sections/), reconnects by itself and resumes with hello {last_seq}, retries
 * unacknowledged commands with the same id (socket.js), and shows timers from the server's
 * clock, corrected for skew, never running backwards (clock.js). Protocol:
 * server/board/PROTOCOL.md. */
import { $ } from "./dom.js";
import { BoardRenderer } from "./sections/index.js";
import { BoardSocket } from "./socket.js";
import { Outbox, tabStorage } from "./outbox.js";
import { drawOutbox, listenOutbox } from "./outbox-view.js";
import { BoardView, GAP } from "./store.js";
import { ServerClock, TimerFaces } from "./clock.js";
import { listen } from "./actions.js";
import { setStatus, toast } from "./status.js";
import { startTicking } from "./sections/timer.js";
import { setUpTabs } from "./tabs.js";

function start(root, boot) {
  const isFacilitator = boot.client.view === "facilitator";
  // A supervisor observes the facilitator view: everything it shows, no command (PROTOCOL.md).
  const readOnly = Boolean(boot.client.read_only);
  const words = boot.words;
  const board = new BoardView(boot.state, isFacilitator, words);
  const clock = new ServerClock();
  const faces = new TimerFaces(clock);
  const ctx = { root, board, faces, words, isFacilitator, readOnly, command: null, renderer: null };
  const renderer = new BoardRenderer(ctx);
  const canCommand = isFacilitator && !readOnly;
  // What waits to be sent survives a reload of this tab (outbox.js); the display sends nothing.
  const outbox = new Outbox(canCommand ? tabStorage() : null, boot.client.meeting_id, boot.client.user.id);
  const socket = new BoardSocket(boot.client.ws_path, {
    board, clock, canCommand, outbox,
    on: {
      snapshot(frame) {
        board.takeSnapshot(frame.state, frame.seq);
        faces.forget();
        renderer.drawAll();
      },
      event(frame) {
        const changes = board.applyEvent(frame);
        if (changes === GAP) socket.hello(); // ask again from what we have
        else if (changes) renderer.drawChanges(frame.event, changes);
      },
      status: (state, text) => setStatus(root, state, text),
      pending(box, live) {
        root.classList.toggle("has-pending", box.size > 0);
        drawOutbox(ctx, box, live);
      },
      refused: toast,
    },
  });
  ctx.command = (name, data) => socket.command(name, data);
  ctx.renderer = renderer;
  if (isFacilitator) setUpTabs(root);
  if (canCommand) {
    listen(ctx);
    listenOutbox(ctx, outbox, () => socket.synced);
  }
  // Exposed for tests and for a curious facilitator's console; not an API.
  window.groupiptBoard = {
    get lastSeq() { return board.lastSeq; },
    get view() { return board.view; },
    get pending() { return socket.pending; },
    get offset() { return clock.offset; },
  };
  renderer.drawAll();
  startTicking(ctx);
  socket.start();
}

const root = $("board"), dataNode = $("board-data");
if (root && dataNode) start(root, JSON.parse(dataNode.textContent));
