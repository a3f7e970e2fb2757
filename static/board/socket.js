/* The board's WebSocket: connection and reconnection with backoff, hello {last_seq} to
 * resume, commands kept until acknowledged and resent with the same id, the server's clock.
 * Protocol: server/board/PROTOCOL.md. */

const HEARTBEAT_MS = 10000;
const SILENT_MS = 25000; // no frame for this long after a ping: the connection is dead
const SIGNED_OUT = 4401; // the server closed it because this sign-in ended (PROTOCOL.md)

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
  #pending = new Map(); // command id -> {command, data}
  #nextId = 0;
  #lastHeard = Date.now();

  /** `board`: the BoardView whose seq it resumes from; `on`: {snapshot(frame),
   * event(frame), status(state, text), pending(count), refused(message)}. */
  constructor(path, { board, clock, canCommand, on }) {
    this.#path = path;
    this.#board = board;
    this.#clock = clock;
    this.#canCommand = canCommand;
    this.#on = on;
  }

  get pending() {
    return Object.fromEntries(this.#pending);
  }

  start() {
    // Heartbeat: a connection that stays silent past a ping is dead even if the browser
    // has not noticed (a tablet leaving the wifi); drop it and reconnect.
    setInterval(() => {
      if (!this.#isOpen()) return;
      if (Date.now() - this.#lastHeard > SILENT_MS) {
        this.#ws.close(4000, "no answer");
        return;
      }
      this.#send({ type: "ping", t: Date.now() });
    }, HEARTBEAT_MS);
    window.addEventListener("offline", () => {
      if (this.#ws) this.#ws.close(4001, "offline");
      this.#on.status("reconnecting", "Reconnecting… (this device is offline)");
    });
    window.addEventListener("online", () => {
      if (!this.#ws && !this.#stopped) {
        this.#attempt = 0;
        this.#connect();
      }
    });
    this.#connect();
  }

  /** Send a command (kept until its ack or error); its id, or undefined on the display. */
  command(name, data = {}) {
    if (!this.#canCommand) return undefined;
    this.#nextId += 1;
    const id = `c${Date.now().toString(36)}-${this.#nextId}-${Math.random().toString(36).slice(2, 7)}`;
    this.#pending.set(id, { command: name, data });
    if (this.#synced) this.#send({ type: "command", id, command: name, data });
    this.#showPending();
    return id;
  }

  /** Ask again from the last seq applied (after a gap in the events). */
  hello() {
    this.#send({ type: "hello", last_seq: this.#board.lastSeq, epoch: this.#epoch || "" });
  }

  #connect() {
    if (this.#stopped) return;
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
    ws.onopen = () => { this.#lastHeard = Date.now(); };
    ws.onmessage = (message) => {
      this.#lastHeard = Date.now();
      this.#receive(JSON.parse(message.data));
    };
    ws.onclose = (ev) => {
      this.#ws = null;
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

  #scheduleReconnect(soon) {
    if (this.#stopped) return;
    this.#attempt += 1;
    const base = soon && this.#attempt < 3 ? 250 : Math.min(10000, 500 * 2 ** (this.#attempt - 1));
    const delay = base / 2 + Math.random() * base / 2;
    this.#on.status("reconnecting", "Reconnecting… (changes you make now are sent when the board is back)");
    setTimeout(() => this.#connect(), delay);
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
        this.#synced = true;
        this.#attempt = 0;
        this.#on.status("live", "Live");
        this.#resendPending();
        this.#showPending();
        break;
      case "ack":
        this.#pending.delete(frame.id);
        this.#showPending();
        break;
      case "error":
        if (frame.id) this.#pending.delete(frame.id);
        this.#showPending();
        this.#on.refused(frame.message || frame.code);
        break;
      case "pong":
        if (typeof frame.t === "number") this.#clock.note(frame.now, Date.now() - frame.t);
        break;
    }
  }

  #resendPending() {
    // Same ids again: a command that did commit before the connection dropped is
    // answered with its original ack instead of running twice.
    for (const [id, { command, data }] of this.#pending) this.#send({ type: "command", id, command, data });
  }

  #showPending() {
    const count = this.#pending.size;
    this.#on.pending(count);
    if (!this.#synced) return;
    this.#on.status("live", count ? `Live · saving ${count}…` : "Live");
  }
}
