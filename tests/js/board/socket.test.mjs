// The board's socket and its outbox together, over a fake WebSocket: what was issued while
// down goes out after hello/catch-up, in order, with its ids; a connection lost before the
// acks sends the same ids again; a refusal of a waiting command is listed, not lost.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { BoardSocket } from "../../../static/board/socket.js";
import { Outbox } from "../../../static/board/outbox.js";

class FakeSocket {
  static OPEN = 1;
  static all = [];
  constructor(url) { this.url = url; this.sent = []; this.readyState = 0; FakeSocket.all.push(this); }
  send(text) { this.sent.push(JSON.parse(text)); }
  close(code) { this.readyState = 3; this.closedWith = code; }
  open() { this.readyState = 1; this.onopen(); }
  say(frame) { this.onmessage({ data: JSON.stringify(frame) }); }
  drop(code = 1006) { this.readyState = 3; this.onclose({ code }); }
  commands() { return this.sent.filter((f) => f.type === "command"); }
}

const listeners = {};
const timers = new Set();
globalThis.WebSocket = FakeSocket;
globalThis.location = { protocol: "http:", host: "clinic.example" };
globalThis.window = { addEventListener: (name, fn) => { listeners[name] = fn; } };
const realSetTimeout = globalThis.setTimeout, realSetInterval = globalThis.setInterval;
globalThis.setTimeout = (fn, ms) => { const t = realSetTimeout(fn, ms); t.unref(); timers.add(t); return t; };
globalThis.setInterval = (fn, ms) => { const t = realSetInterval(fn, ms); t.unref(); timers.add(t); return t; };
after(() => { for (const t of timers) clearTimeout(t); });

function connect(socket) {
  const ws = FakeSocket.all.at(-1);
  ws.open();
  ws.say({ type: "welcome", epoch: "e1", now: Date.now() });
  assert.equal(ws.sent[0].type, "hello");
  ws.say({ type: "synced", seq: 5, epoch: "e1", now: Date.now() });
  return ws;
}

test("offline commands go out after catch-up in order with their ids, and again after a drop", () => {
  const board = { lastSeq: 5, caughtUp() {}, forgetSeq() {} };
  const seen = { status: [], refused: [], pending: [] };
  const outbox = new Outbox(null, 9, 1);
  const socket = new BoardSocket("/boards/9/ws", {
    board, clock: { note() {} }, canCommand: true, outbox,
    on: { snapshot() {}, event() {}, status: (s) => seen.status.push(s), refused: (m) => seen.refused.push(m),
          pending: (box, live) => seen.pending.push([box.size, live]) },
  });
  socket.start();
  const first = connect(socket);
  listeners.offline(); // the device goes offline: the socket is given up at once
  assert.equal(first.closedWith, 4001);
  const ids = [socket.command("mark_attendance", { member: "1", status: "present" }),
               socket.command("end_turn", { turn: "t1" }),
               socket.command("add_note", { text: "kept" })];
  assert.equal(first.commands().length, 0);
  assert.deepEqual(seen.pending.at(-1), [3, false]);

  listeners.online(); // back: tried now, not after the backoff
  const second = FakeSocket.all.at(-1);
  assert.notEqual(second, first);
  second.open();
  second.say({ type: "welcome", epoch: "e1", now: Date.now() });
  assert.equal(second.commands().length, 0); // nothing before hello/catch-up
  second.say({ type: "synced", seq: 5, epoch: "e1", now: Date.now() });
  assert.deepEqual(second.commands().map((c) => c.id), ids);
  second.say({ type: "ack", id: ids[0], seq: 6, duplicate: false });
  second.drop(); // lost before the other two answers
  listeners.online();
  const third = connect(socket);
  assert.deepEqual(third.commands().map((c) => c.id), ids.slice(1)); // the same ids again
  third.say({ type: "ack", id: ids[2], seq: 7, duplicate: true });
  third.say({ type: "error", id: ids[1], code: "turn_not_active", message: "Turn t1 has already ended." });
  assert.equal(outbox.size, 0);
  assert.deepEqual(outbox.refused.map((r) => r.id), [ids[1]]); // listed until dismissed, not a passing toast
  assert.deepEqual(seen.refused, []);
  assert.equal(seen.status.at(-1), "live");

  socket.command("add_note", { text: "live" }); // while live: sent at once
  assert.equal(third.commands().at(-1).data.text, "live");
  third.say({ type: "error", id: third.commands().at(-1).id, code: "invalid_argument", message: "Too long." });
  assert.deepEqual(seen.refused, ["Too long."]); // refused at once: the usual brief message
  assert.equal(outbox.refused.length, 1);
});
