/* A timer on screen (role=timer), and the tick that counts every shown timer down. */
import { fill, fromTemplate } from "../dom.js";
import { formatClock } from "../clock.js";

export function timerNode(ctx, timer) {
  const ms = ctx.faces.remaining(timer);
  const node = fill(fromTemplate("tpl-timer"), {
    label: timer.label, value: formatClock(ms), paused: timer.running ? null : "(paused)",
  });
  node.dataset.timer = timer.name;
  node.setAttribute("aria-label", `${timer.label} remaining`);
  node.classList.toggle("paused", !timer.running);
  node.classList.toggle("done", ms === 0);
  return node;
}

/** Four times a second: only the digits change, nothing is redrawn. */
export function startTicking(ctx) {
  setInterval(() => {
    const timers = ctx.board.view.timers || {};
    for (const node of document.querySelectorAll("[data-timer]")) {
      const timer = timers[node.dataset.timer];
      if (!timer) continue;
      const ms = ctx.faces.remaining(timer);
      const value = node.querySelector(".timer-value");
      if (value) value.textContent = formatClock(ms);
      node.classList.toggle("done", ms === 0);
    }
  }, 250);
}
