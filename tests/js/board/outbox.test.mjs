// The board's outbox: commands kept with their ids across a reload of the tab, in order,
// removed by their ack, and the refused ones that waited kept in words until dismissed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Outbox, OUTBOX_PREFIX, KEPT_MS, describe, refusalText } from "../../../static/board/outbox.js";
import { BoardView } from "../../../static/board/store.js";

class MemoryStorage { // sessionStorage's part the outbox uses
  #map = new Map();
  getItem(key) { return this.#map.has(key) ? this.#map.get(key) : null; }
  setItem(key, value) { this.#map.set(key, String(value)); }
  removeItem(key) { this.#map.delete(key); }
  get keys() { return [...this.#map.keys()]; }
}

test("commands issued while down survive a reload in order with their ids, and acks remove them", () => {
  const storage = new MemoryStorage();
  const box = new Outbox(storage, 42, 7);
  box.add("a", "mark_attendance", { member: "1", status: "present" }, true);
  box.add("b", "mark_attendance", { member: "2", status: "late" }, true);
  box.add("c", "add_note", { text: "Maria spoke" }, true);
  assert.deepEqual(storage.keys, [OUTBOX_PREFIX + "42"]);

  const reloaded = new Outbox(storage, 42, 7);
  assert.deepEqual(reloaded.items.map((i) => i.id), ["a", "b", "c"]);
  assert.deepEqual(reloaded.unsent().map((i) => i.id), ["a", "b", "c"]);
  reloaded.markSent("a");
  reloaded.markSent("b");
  assert.deepEqual(reloaded.unsent().map((i) => i.id), ["c"]);
  assert.equal(reloaded.acked("a").command, "mark_attendance");
  assert.equal(reloaded.acked("a"), undefined); // a second ack (a duplicate) finds nothing
  reloaded.holdAll(); // the connection dropped before b's ack: b goes again, same id
  assert.deepEqual(reloaded.unsent().map((i) => i.id), ["b", "c"]);
  reloaded.acked("b");
  reloaded.acked("c");
  assert.equal(reloaded.size, 0);
  assert.deepEqual(storage.keys, []); // nothing left behind in the tab
});

test("a command refused after waiting is kept in words until dismissed; one refused while live is not", () => {
  const storage = new MemoryStorage();
  const box = new Outbox(storage, 1, 7);
  box.add("live", "end_turn", { turn: "t1" }, false);
  box.add("held", "end_turn", { turn: "t1" }, true);
  assert.equal(box.failed("live", "turn_not_active", "Turn t1 has already ended.").waited, false);
  box.failed("held", "turn_not_active", "Turn t1 has already ended.");
  assert.deepEqual(box.refused.map((r) => r.id), ["held"]);
  const again = new Outbox(storage, 1, 7);
  assert.equal(refusalText(again.refused[0]),
    "Not applied: the turn has already ended. The board shows what happened instead.");
  again.dismiss("held");
  assert.equal(again.refused.length, 0);
  assert.deepEqual(storage.keys, []);
});

test("another person's outbox is never sent, and an hour-old command is shown, not sent", () => {
  const storage = new MemoryStorage();
  const then = Date.now() - KEPT_MS - 1000;
  new Outbox(storage, 5, 7).add("old", "start_turn", { turn: "t2" }, true, then);
  assert.equal(new Outbox(storage, 5, 8).size, 0); // someone else signed in in this tab
  assert.deepEqual(storage.keys, []);

  new Outbox(storage, 5, 7).add("old", "start_turn", { turn: "t2" }, true, then);
  const box = new Outbox(storage, 5, 7);
  assert.equal(box.size, 0);
  assert.equal(box.refused[0].code, "too_old");
  const fresh = new Outbox(null, 5, 7); // no storage at all: kept in the page only
  fresh.add("x", "undo", {}, true);
  assert.equal(fresh.size, 1);
});

test("a waiting command is described in the board's words", () => {
  const state = { members: { 3: { name: "Maria Lopez" } }, turns: { t1: { protagonist: "3", role_label: "my boss" } } };
  const board = new BoardView(state, true, { attended: ["present"] });
  const words = { attendance: [["present", "Present"], ["late", "Late"]], rating_max: 4 };
  assert.equal(describe({ command: "mark_attendance", data: { member: "3", status: "late" } }, board, words),
    "Attendance: Maria Lopez, Late");
  assert.equal(describe({ command: "end_turn", data: { turn: "t1" } }, board, words), "End the turn: Maria Lopez · my boss");
  assert.equal(describe({ command: "add_note", data: { text: "x".repeat(60) } }, board, words).length, "Note: ".length + 40);
  assert.equal(describe({ command: "favour_new_members", data: {} }, board, words), "Members without a turn first");
});
