/* The board's WebSocket: connection and reconnection with backoff, hello {last_seq} to
 * resume, commands kept until acknowledged (outbox.js, across a reload too) and sent again
 * in order with the same id once caught up, the server's clock.
 * Protocol: server/board/PROTOCOL.md. */

const HEARTBEAT_MS = 10000;
const SILENT_MS = 25000; // no frame for this long after a ping: the connection is dead
const SIGNED_OUT = 4401; // the server closed it because this sign-in ended (PROTOCOL.md)
// A socket not caught up by then is given up and tried again: on a clinic's wifi that has
// lost its route a connection attempt can hang far longer than the outage.
const CONNECT_TIMEOUT_MS = 10000;
// Between attempts at most this long (with jitter, half to all of it): after a minute
// without network the board is back within seconds of the network.
const MAX_BACKOFF_MS = 8000;
// A long outbox goes out this many at a time, each batch after the answers to the last:
// well within the server's 50 commands a second, and in order.
const IN_FLIGHT = 20;
// Answers that mean "not now" rather than "no": the command waits and goes again.
const TRY_AGAIN = new Set(["retry", "rate_limited", "hello_first"]);

export class BoardSocket {
  #path;
  #board;
  #clock;
  #on;
  #canCommand;
  #ws = null;
  #attempt = 0;
  #stopped = false;
  #synced = false;
  #epoch = null;
  #outbox;
  #nextId = 0;
  #lastHeard = Date.now();
  #retryTimer = null;
  #connectTimer = null;

  /** `board`: the BoardView whose seq it resumes from; `outbox`: the commands not yet
   * answered (outbox.js); `on`: {snapshot(frame), event(frame), status(state, text),
   * pending(outbox), refused(message)}. */
  constructor(path, { board, clock, canCommand, outbox, on }) {
    this.#path = path;
    this.#board = board;
    this.#clock = clock;
    this.#canCommand = canCommand;
    this.#outbox = outbox;
    this.#on = on;
  }

  /** command id -> {command, data}: what waits for an answer. */
  get pending() {
    return Object.fromEntries(this.#outbox.items.map((item) => [item.id, { command: item.command, data: item.data }]));
  }

  get synced() {
    return this.#synced;
  }

  start() {
    // Heartbeat: a connection that stays silent past a ping is dead even if the browser
    // has not noticed (a tablet leaving the wifi); drop it and reconnect.
    setInterval(() => {
      if (!this.#isOpen()) return;
      if (Date.now() - this.#lastHeard > SILENT_MS) {
        this.#drop(this.#ws, 4000, "no answer");
        return;
      }
      this.#send({ type: "ping", t: Date.now() });
    }, HEARTBEAT_MS);
    window.addEventListener("offline", () => {
      if (this.#ws) this.#drop(this.#ws, 4001, "offline");
      this.#on.status("reconnecting", "Reconnecting… (this device is offline)");
    });
    window.addEventListener("online", () => { // the network is back: try now, not at the next backoff
      if (!this.#ws && !this.#stopped) {
        this.#attempt = 0;
        this.#connect();
      }
    });
    this.#connect();
    this.#showPending();
  }

  /** Send a command (kept until its ack or error); its id, or undefined on the display. */
  command(name, data = {}) {
    if (!this.#canCommand) return undefined;
    this.#nextId += 1;
    const id = `c${Date.now().toString(36)}-${this.#nextId}-${Math.random().toString(36).slice(2, 7)}`;
    this.#outbox.add(id, name, data, !this.#synced);
    if (this.#synced) this.#resendPending(); // after any older one still waiting: in the order issued
    this.#showPending();
    return id;
  }

  /** Ask again from the last seq applied (after a gap in the events). */
  hello() {
    this.#send({ type: "hello", last_seq: this.#board.lastSeq, epoch: this.#epoch || "" });
  }

  #connect() {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    if (this.#stopped || this.#ws) return; // one socket at a time ('online' and a retry may meet)
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    this.#on.status(this.#attempt ? "reconnecting" : "connecting", this.#attempt ? "Reconnecting…" : "Connecting…");
    this.#synced = false;
    let ws;
    try {
      ws = new WebSocket(scheme + location.host + this.#path);
    } catch (err) {
      this.#scheduleReconnect(false);
      return;
    }
    this.#ws = ws;
    clearTimeout(this.#connectTimer);
    this.#connectTimer = setTimeout(() => { if (this.#ws === ws && !this.#synced) this.#drop(ws, 4002, "no answer"); },
                                    CONNECT_TIMEOUT_MS);
    ws.onopen = () => { this.#lastHeard = Date.now(); };
    ws.onmessage = (message) => {
      if (this.#ws !== ws) return; // a socket already given up
      this.#lastHeard = Date.now();
      this.#receive(JSON.parse(message.data));
    };
    ws.onclose = (ev) => {
      if (this.#ws !== ws) return; // given up already (#drop), and its retry is scheduled
      this.#lost();
      if (ev.code === SIGNED_OUT) { // sign-out, idle or expired session: reconnecting would be refused
        this.#stopped = true;
        this.#on.status("signed-out", "Signed out: your sign-in has ended. Sign in again, then reload the board.");
        return;
      }
      if (ev.code === 1008) { // policy: access ended or flooding; retrying would not help
        this.#stopped = true;
        this.#on.status("stopped", `Disconnected: ${ev.reason || "access to this board has ended"}. Reload the page to try again.`);
        return;
      }
      this.#scheduleReconnect(ev.code === 1012 || ev.code === 1013); // restart or overflow: come back soon
    };
    ws.onerror = () => { /* onclose follows and reconnects */ };
  }

  /** Give up on a socket now (the browser may take long to notice it is dead) and retry. */
  #drop(ws, code, reason) {
    if (this.#ws !== ws) return;
    this.#lost();
    try { ws.close(code, reason); } catch (e) { /* already closing */ }
    this.#scheduleReconnect(false);
  }

  #lost() {
    this.#ws = null;
    this.#synced = false;
    clearTimeout(this.#connectTimer);
    this.#outbox.holdAll(); // sent but not answered: sent again, same ids, on the next connection
    this.#showPending();
  }

  #scheduleReconnect(soon) {
    if (this.#stopped || this.#retryTimer) return;
    this.#attempt += 1;
    const base = soon && this.#attempt < 3 ? 250 : Math.min(MAX_BACKOFF_MS, 500 * 2 ** (this.#attempt - 1));
    const delay = base / 2 + Math.random() * base / 2;
    this.#on.status("reconnecting", "Reconnecting… (changes you make now are sent when the board is back)");
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #isOpen() {
    return this.#ws !== null && this.#ws.readyState === WebSocket.OPEN;
  }

  #send(frame) {
    if (!this.#isOpen()) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  #receive(frame) {
    switch (frame.type) {
      case "welcome":
        if (this.#epoch && frame.epoch !== this.#epoch) this.#board.forgetSeq(); // another log: start over
        this.#epoch = frame.epoch;
        this.#clock.note(frame.now);
        this.hello();
        this.#send({ type: "ping", t: Date.now() });
        break;
      case "snapshot":
        this.#on.snapshot(frame);
        break;
      case "event":
        this.#on.event(frame);
        break;
      case "synced":
        this.#board.caughtUp(frame.seq);
        clearTimeout(this.#connectTimer);
        this.#synced = true;
        this.#attempt = 0;
        this.#on.status("live", "Live");
        this.#resendPending();
        this.#showPending();
        break;
      case "ack":
        this.#outbox.acked(frame.id);
        this.#resendPending();
        this.#showPending();
        break;
      case "error": {
        if (frame.id && TRY_AGAIN.has(frame.code) && this.#outbox.markSent(frame.id, false)) {
          setTimeout(() => { if (this.#synced) this.#resendPending(); }, 1000);
          break;
        }
        const item = frame.id ? this.#outbox.failed(frame.id, frame.code, frame.message || frame.code) : undefined;
        this.#resendPending();
        this.#showPending();
        if (!item || !item.waited) this.#on.refused(frame.message || frame.code); // a waiting one is listed instead
        break;
      }
      case "pong":
        if (typeof frame.t === "number") this.#clock.note(frame.now, Date.now() - frame.t);
        break;
    }
  }

  #resendPending() {
    // In the order issued, with the same ids: a command that did commit before the
    // connection dropped is answered with its original ack instead of running twice. Each is
    // sent once per connection; a dropped connection holds them all again (outbox.holdAll).
    if (!this.#synced) return;
    for (const item of this.#outbox.unsent()) {
      if (this.#outbox.inFlight >= IN_FLIGHT) return; // the rest after these are answered
      if (!this.#send({ type: "command", id: item.id, command: item.command, data: item.data })) return;
      this.#outbox.markSent(item.id);
    }
  }

  #showPending() {
    const count = this.#outbox.size;
    this.#on.pending(this.#outbox, this.#synced);
    if (!this.#synced) return;
    this.#on.status("live", count ? `Live · saving ${count}…` : "Live");
  }
}
