/* What a facilitator's clicks, choices, forms and keys ask the board to do: each one
 * becomes a command (PROTOCOL.md, "Commands"). The display sends none. */
import { $ } from "./dom.js";
import { goals } from "./sections/goals.js";
import { updateGoalOptions } from "./sections/forms.js";

// How long a timer grows when its button says so ("+2 min", "+5 min").
const TURN_EXTEND_S = 120;
const AGENDA_EXTEND_S = 300;

export function listen(ctx) {
  const { root } = ctx;
  root.addEventListener("click", (ev) => {
    const target = ev.target.closest("button[data-action]");
    if (target) act(ctx, target);
  });
  root.addEventListener("change", (ev) => choose(ctx, ev.target));
  root.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit(ctx, ev.target);
  });
  $("undo-btn").addEventListener("click", () => undo(ctx));
  $("favour-btn").addEventListener("click", () => ctx.command("favour_new_members", {}));
  $("close-btn").addEventListener("click", () => closeMeeting(ctx));
  document.addEventListener("keydown", (ev) => shortcut(ctx, ev));
}

function act(ctx, button) {
  const action = button.dataset.action, d = button.dataset, command = ctx.command;
  switch (action) {
    case "start_turn": case "pause_turn": case "resume_turn": case "end_turn": case "skip_turn":
    case "start_role_reversal": case "start_feedback":
      return command(action, { turn: d.turn });
    case "next_feedback": return command(action, { turn: d.turn, from_stage: d.stage });
    case "extend_turn": return command("extend_timer", { name: "turn", seconds: TURN_EXTEND_S });
    case "move_up": return moveInQueue(ctx, d.turn, -1);
    case "move_down": return moveInQueue(ctx, d.turn, 1);
    case "start_checkin": case "end_checkin": return command(action, {});
    case "next_checkin": return command(action, { current: d.current });
    case "pause_timer": case "resume_timer": case "stop_timer": return command(action, { name: "agenda" });
    case "extend_agenda": return command("extend_timer", { name: "agenda", seconds: AGENDA_EXTEND_S });
    case "rate_goal": return command(action, { goal: d.goal, rating: parseInt(d.rating, 10) });
    case "mark_attendance": return markAttendance(ctx, d.member, d.status);
    case "close_meeting": return closeMeeting(ctx);
  }
  return undefined;
}

function moveInQueue(ctx, tid, delta) {
  const order = ctx.board.view.queue.slice();
  const i = order.indexOf(tid), j = i + delta;
  if (i < 0 || j < 0 || j >= order.length) return;
  order[i] = order[j];
  order[j] = tid;
  ctx.command("reorder_queue", { order });
}

// One tap on a chip's mark; the private reason typed in the chip goes with it.
function markAttendance(ctx, member, status) {
  const reason = ctx.root.querySelector(`input.reason[data-member="${CSS.escape(member)}"]`);
  ctx.command("mark_attendance", { member, status, reason: reason ? reason.value : "" });
}

function choose(ctx, field) {
  const view = ctx.board.view;
  if (field.dataset.action === "set_goal_status") {
    const data = { goal: field.dataset.goal, status: field.value };
    if (field.value === "revised") {
      const text = window.prompt("The goal as revised:");
      if (!text) { // withdrawn: the select shows the goal's status again
        field.value = view.goals[field.dataset.goal].status;
        ctx.renderer.redraw(goals);
        return;
      }
      data.text = text;
    }
    ctx.command("set_goal_status", data);
  } else if (field.id === "t-protagonist") {
    updateGoalOptions(ctx);
  } else if (field.id === "labels-mode") {
    if (field.value !== view.display_labels) ctx.command("set_display_labels", { mode: field.value });
  } else if (field.classList.contains("reason")) {
    const mark = view.attendance[field.dataset.member];
    if (mark) ctx.command("mark_attendance", { member: field.dataset.member, status: mark.status, reason: field.value });
  }
}

function submit(ctx, form) {
  if (form.id === "add-turn") {
    const [kind, id] = form.counterpart.value.split(":");
    const data = {
      protagonist: form.protagonist.value, counterpart: { kind, id },
      role_label: form.role_label.value, scenario: form.scenario.value,
      duration_s: Math.round(parseFloat(form.minutes.value || "10") * 60),
    };
    if (form.goal.value) data.goal = form.goal.value;
    ctx.command("add_turn", data);
    form.role_label.value = "";
    form.scenario.value = "";
  } else if (form.id === "note-form") {
    const note = { text: form.text.value };
    if (form.member.value) note.member = form.member.value;
    ctx.command("add_note", note);
    form.text.value = "";
  } else if (form.id === "agenda-form") {
    ctx.command("start_timer", {
      name: "agenda", label: form.label.value, duration_s: Math.round(parseFloat(form.minutes.value || "15") * 60),
    });
  } else if (form.classList.contains("next-step")) {
    ctx.command("record_next_step", { turn: form.dataset.turn, text: form.text.value });
    form.text.blur();
  }
}

function undo(ctx) {
  const last = ctx.board.view.undo;
  if (last) ctx.command("undo", { seq: last.seq });
}

function closeMeeting(ctx) {
  const { board } = ctx, view = board.view;
  const unmarked = board.memberIds().filter((mid) => !view.attendance[mid]);
  const question = unmarked.length
    ? `Attendance is not marked for ${unmarked.length} member(s). Close the session anyway?`
    : "Close the session? Attendance, turns, goal progress and notes are stored as its record.";
  const data = { confirm_unmarked: unmarked.length > 0 };
  // Safety items of members who were in the room need a documented contact first (safety_open);
  // only a clinician may close over them, and says why (PROTOCOL.md, close_meeting).
  const waiting = (view.safety || []).filter((item) => board.mayBeHere(item.member));
  if (waiting.length) {
    const reason = window.prompt(`${waiting.length} safety item(s) of members who were here have no documented ` +
      "contact yet. Record the risk check first; only a clinician may close anyway. Why close now?");
    if (!reason) return;
    data.confirm_safety_reason = reason;
  } else if (!window.confirm(question)) {
    return;
  }
  ctx.command("close_meeting", data);
}

function shortcut(ctx, ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const tag = (ev.target.tagName || "").toLowerCase();
  if (tag === "input" || tag === "textarea" || tag === "select" || ev.target.isContentEditable) return;
  const view = ctx.board.view, command = ctx.command;
  const tid = view.active_turn, turn = tid && view.turns[tid];
  let handled = true;
  switch (ev.key) {
    case "s": if (!turn && view.queue.length) command("start_turn", { turn: view.queue[0] }); break;
    case "p": if (turn) command(turn.status === "paused" ? "resume_turn" : "pause_turn", { turn: tid }); break;
    case "r": if (turn && turn.stage === "practice") command("start_role_reversal", { turn: tid }); break;
    case "f":
      if (turn && (turn.stage === "practice" || turn.stage === "role_reversal")) command("start_feedback", { turn: tid });
      else if (turn && turn.stage === "feedback") command("next_feedback", { turn: tid, from_stage: turn.feedback_stage });
      break;
    case "e": if (turn) command("end_turn", { turn: tid }); break;
    case "n": {
      const round = view.checkin;
      if (round && !round.done && round.index !== null) command("next_checkin", { current: round.order[round.index] });
      break;
    }
    case "u": undo(ctx); break;
    case "a":
      $("add-turn-box").open = true;
      $("t-protagonist").focus();
      break;
    default: handled = false;
  }
  if (handled) ev.preventDefault();
}
