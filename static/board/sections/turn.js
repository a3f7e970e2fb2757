/* The role play: the current turn (stage, feedback round, timer, the facilitator's controls
 * and next step) and the queue of turns waiting. */
import { $, actionButton, fill, fromTemplate, slot } from "../dom.js";
import { timerNode } from "./timer.js";
import { isNext } from "./next.js";

export const currentTurn = {
  keys: ["active_turn", "turns", "timers", "members", "facilitators"],
  // Don't wipe a next step the facilitator is typing; drawn when they leave the field.
  busy: () => document.activeElement !== null && document.activeElement.id === "next-step",
  render(ctx) {
    const { board } = ctx, view = board.view;
    const tid = view.active_turn, turn = tid && view.turns[tid];
    const node = $("current-turn");
    if (!turn) {
      node.replaceChildren(fromTemplate("tpl-no-turn"));
      return;
    }
    const parts = [
      fill(fromTemplate("tpl-turn-who"), {
        protagonist: board.memberLabel(turn.protagonist), counterpart: board.counterpartLabel(turn.counterpart),
        role: turn.role_label,
      }),
      stageNode(ctx.words, turn),
    ];
    if (turn.stage === "feedback") parts.push(feedbackOrder(ctx.words, turn.feedback_stage));
    if (view.timers.turn) parts.push(timerNode(ctx, view.timers.turn));
    if (ctx.isFacilitator) {
      if (turn.scenario) parts.push(fill(fromTemplate("tpl-scenario"), { text: turn.scenario }));
      parts.push(turnControls(ctx, tid, turn), nextStepForm(tid, turn));
    }
    node.replaceChildren(...parts);
  },
};

function stageNode(words, turn) {
  const node = fromTemplate("tpl-turn-stage");
  node.dataset.stage = turn.stage;
  node.textContent = (words.stage_labels[turn.stage] || turn.stage) + (turn.status === "paused" ? " · paused" : "");
  return node;
}

function feedbackOrder(words, now) {
  const list = fromTemplate("tpl-feedback-order");
  for (const [voice, label] of words.feedback_voices) {
    const item = fromTemplate("tpl-feedback-voice");
    item.textContent = label;
    if (voice === now) {
      item.classList.add("now");
      item.setAttribute("aria-current", "step");
    }
    list.append(item);
  }
  return list;
}

// The turn's controls, less the one the next-action button already shows (sections/next.js).
function turnControls(ctx, tid, turn) {
  const actions = fromTemplate("tpl-actions");
  const turnData = { turn: tid };
  const offer = (label, action, data = turnData) => {
    if (!isNext(ctx, action)) actions.append(actionButton(label, action, data));
  };
  if (turn.status === "paused") offer("Resume (p)", "resume_turn");
  else offer("Pause (p)", "pause_turn");
  offer("+2 min", "extend_turn");
  if (turn.stage === "practice") offer("Role reversal (r)", "start_role_reversal");
  if (turn.stage === "practice" || turn.stage === "role_reversal") offer("Start feedback (f)", "start_feedback");
  if (turn.stage === "feedback") offer("Next voice (f)", "next_feedback", { turn: tid, stage: turn.feedback_stage });
  offer("End turn (e)", "end_turn");
  return actions;
}

function nextStepForm(tid, turn) {
  const form = fromTemplate("tpl-next-step");
  form.dataset.turn = tid;
  slot(form, "text").value = turn.next_step || "";
  return form;
}

export const queue = {
  keys: ["queue", "turns", "members", "facilitators"],
  render(ctx) {
    const { board } = ctx, view = board.view, order = view.queue || [];
    const rows = [];
    order.forEach((tid, i) => {
      const turn = view.turns[tid];
      if (!turn) return;
      const row = fill(fromTemplate("tpl-queue-row"), {
        who: board.memberLabel(turn.protagonist), counterpart: board.counterpartLabel(turn.counterpart),
        role: turn.role_label,
      });
      row.dataset.turn = tid;
      const actions = slot(row, "actions");
      if (ctx.isFacilitator) {
        const turnData = { turn: tid };
        actions.append(actionButton("Start", "start_turn", turnData));
        if (i > 0) actions.append(actionButton("↑", "move_up", turnData));
        if (i < order.length - 1) actions.append(actionButton("↓", "move_down", turnData));
        actions.append(actionButton("Skip", "skip_turn", turnData));
      } else {
        actions.remove();
      }
      rows.push(row);
    });
    $("queue").replaceChildren(...(rows.length ? rows : [fromTemplate("tpl-queue-empty")]));
  },
};
