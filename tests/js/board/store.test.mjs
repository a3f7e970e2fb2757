// The board client's copy of the view: snapshots, the parts events replace, and gaps.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BoardView, GAP } from "../../../static/board/store.js";

// The part of the page's boot JSON the view reads (server/board/vocabulary.py, page_words).
const WORDS = { attended: ["present", "late"] };
const frame = (seq, view = {}, append = {}) => ({ type: "event", event: { seq }, view, append });

test("an event replaces the parts it names and appends to lists", () => {
  const board = new BoardView({ status: "live", notes: [{ id: 1 }], queue: [] }, true, WORDS);
  board.takeSnapshot({ status: "live", notes: [{ id: 1 }], queue: [] }, 4);
  const changed = board.applyEvent(frame(5, { queue: [{ id: 9 }] }, { notes: [{ id: 2 }] }));
  assert.deepEqual(changed.replaced, ["queue"]);
  assert.deepEqual(board.view.queue, [{ id: 9 }]);
  assert.deepEqual(board.view.notes.map((n) => n.id), [1, 2]);
  assert.equal(board.lastSeq, 5);
});

test("an event seen before is ignored, and a facilitator's missed event is a gap", () => {
  const board = new BoardView({}, true, WORDS);
  board.takeSnapshot({ status: "live" }, 7);
  assert.equal(board.applyEvent(frame(7)), null);
  assert.equal(board.applyEvent(frame(9)), GAP);
  assert.equal(board.lastSeq, 7);
});

test("the display skips seqs by design, and names members by their labels only", () => {
  const state = { members: { 3: { name: "Maya Lind", label: "ML" } }, attendance: { 3: { status: "absent" } } };
  const display = new BoardView(state, false, WORDS);
  display.takeSnapshot(state, 2);
  assert.ok(display.applyEvent(frame(6)));
  assert.equal(display.memberLabel(3), "ML");
  assert.equal(display.memberLabel(99), "Member");
  assert.equal(new BoardView(state, true, WORDS).memberLabel(3), "Maya Lind");
  assert.equal(display.mayBeHere(3), false);
  assert.equal(display.mayBeHere(4), true);  // not marked yet: may be in the room
});
