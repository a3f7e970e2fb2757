// The board client's clock: skew from the fastest round trip, timers that never count up.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ServerClock, TimerFaces, formatClock } from "../../../static/board/clock.js";

test("the offset comes from the fastest round trip", () => {
  const clock = new ServerClock();
  const now = Date.now();
  clock.note(now + 10_000, 40);          // server 10 s ahead, measured over 40 ms
  assert.ok(Math.abs(clock.offset - 10_020) < 50);
  clock.note(now + 99_000, 900);         // a slow round trip does not move it
  assert.ok(Math.abs(clock.offset - 10_020) < 50);
  clock.note("soon");                    // not a reading
  assert.ok(Math.abs(clock.offset - 10_020) < 50);
});

test("a timer of one revision never shows more time than it showed before", () => {
  const clock = new ServerClock();
  const faces = new TimerFaces(clock);
  const timer = { name: "turn", rev: 1, duration_ms: 60_000, elapsed_ms: 0, started_at_ms: Date.now(), running: true };
  const first = faces.remaining(timer);
  clock.offset = -5_000;                 // a better estimate says the server is 5 s behind
  assert.ok(faces.remaining(timer) <= first);
  const extended = { ...timer, rev: 2, duration_ms: 120_000 };
  assert.ok(faces.remaining(extended) > first);   // a new revision starts afresh
  assert.equal(faces.remaining({ ...timer, running: false, elapsed_ms: 70_000 }), 0);
});

test("the clock face rounds up to whole seconds", () => {
  assert.equal(formatClock(0), "0:00");
  assert.equal(formatClock(61_001), "1:02");
  assert.equal(formatClock(9_000), "0:09");
});
