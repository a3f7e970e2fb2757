/* The next action: one button at the top of the "Now" panel for the step a session most
 * likely takes next (check-in, then each role play through its stages, then closing), so a
 * facilitator never has to look for it. It follows the same rules as the keyboard
 * shortcuts (actions.js) and sends the same commands; the turn and check-in controls leave
 * out the button it already shows. */
import { $, fromTemplate } from "../dom.js";

/** The next step as {label, action, data}, or null when there is none (a closed board). */
export function nextStep(view) {
  if (view.status !== "open") return null;
  const tid = view.active_turn, turn = tid && view.turns[tid];
  if (turn) {
    if (turn.stage === "practice") return step("Role reversal (r)", "start_role_reversal", { turn: tid });
    if (turn.stage === "role_reversal") return step("Start feedback (f)", "start_feedback", { turn: tid });
    if (turn.stage === "feedback") return step("Next voice (f)", "next_feedback", { turn: tid, stage: turn.feedback_stage });
    return step("End turn (e)", "end_turn", { turn: tid });
  }
  const round = view.checkin, queue = view.queue || [];
  if (round && !round.done && round.index !== null) {
    return step("Next member (n)", "next_checkin", { current: round.order[round.index] });
  }
  const turnsRun = Object.values(view.turns || {}).some((t) => t.status !== "queued");
  if (!round && !turnsRun) return step("Start check-in round", "start_checkin", {});
  if (queue.length) return step("Start the next turn (s)", "start_turn", { turn: queue[0] });
  return step("Close the session", "close_meeting", {});
}

function step(label, action, data) {
  return { label, action, data };
}

/** Whether the next-action button already offers this action (so a section leaves it out). */
export function isNext(ctx, action) {
  if (ctx.readOnly) return false;
  const next = nextStep(ctx.board.view);
  return next !== null && next.action === action;
}

export const nextAction = {
  keys: ["status", "active_turn", "turns", "queue", "checkin"],
  render(ctx) {
    const node = $("next-action");
    if (!node) return;
    // An observer sees the board as it is, with no button pretending to be theirs.
    const next = ctx.readOnly ? null : nextStep(ctx.board.view);
    node.hidden = next === null;
    if (next === null) {
      node.replaceChildren();
      return;
    }
    const button = fromTemplate("tpl-next-action");
    button.textContent = next.label;
    button.dataset.action = next.action;
    for (const [key, value] of Object.entries(next.data)) button.dataset[key] = String(value);
    node.replaceChildren(button);
  },
};
