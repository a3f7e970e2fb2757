/* The session's rhythm: the check-in round and the agenda timer. */
import { $, actionButton, fill, fromTemplate } from "../dom.js";
import { timerNode } from "./timer.js";
import { isNext } from "./next.js";

export const checkin = {
  // The next-action button may offer this round's step (sections/next.js): drawn with it.
  keys: ["checkin", "members", "queue", "turns", "active_turn", "status"],
  render(ctx) {
    const node = $("checkin");
    if (!node) return;
    const round = ctx.board.view.checkin;
    const parts = [];
    // While a role play runs, a round that is not running is no news: the turn has the room.
    const running = round && !round.done && round.index !== null;
    if (!running && ctx.board.view.active_turn) {
      node.replaceChildren();
      return;
    }
    if (round && !round.done && round.index !== null) {
      const current = round.order[round.index];
      parts.push(fill(fromTemplate("tpl-checkin-now"), {
        who: ctx.board.memberLabel(current), position: round.index + 1, count: round.order.length,
      }));
      if (ctx.isFacilitator) {
        if (!isNext(ctx, "next_checkin")) parts.push(actionButton("Next member (n)", "next_checkin", { current }));
        parts.push(actionButton("End round", "end_checkin"));
      }
    } else if (ctx.isFacilitator) {
      parts.push(fromTemplate(round && round.done ? "tpl-checkin-done" : "tpl-checkin-idle"));
      if (!isNext(ctx, "start_checkin")) parts.push(actionButton("Start check-in round", "start_checkin"));
    }
    node.replaceChildren(...parts);
  },
};

export const agenda = {
  keys: ["timers"],
  // Don't wipe a segment or minutes being typed.
  busy() {
    const node = $("agenda"), focused = document.activeElement;
    return node !== null && node.contains(focused) && focused.tagName === "INPUT";
  },
  render(ctx) {
    const node = $("agenda");
    if (!node) return;
    const timer = ctx.board.view.timers && ctx.board.view.timers.agenda;
    const parts = timer ? [timerNode(ctx, timer)] : [];
    if (ctx.isFacilitator) {
      if (timer) {
        parts.push(timer.running ? actionButton("Pause", "pause_timer") : actionButton("Resume", "resume_timer"),
          actionButton("+5 min", "extend_agenda"), actionButton("Stop", "stop_timer"));
      } else {
        parts.push(fromTemplate("tpl-agenda-form"));
      }
    }
    node.replaceChildren(...parts);
  },
};
