/* The outbox on the page (issue 20): "Waiting to send (n)" with each waiting command and
 * whether the board is connected, and the commands refused because the board had moved on,
 * each said plainly until dismissed. The container is #outbox in templates/boards/facilitator.html. */
import { $ } from "./dom.js";
import { describe, refusalText } from "./outbox.js";

export function drawOutbox(ctx, outbox, live) {
  const box = $("outbox");
  if (!box) return;
  const items = outbox.items, refused = outbox.refused;
  box.hidden = !items.length && !refused.length;
  const waiting = $("outbox-waiting");
  waiting.hidden = !items.length;
  $("outbox-title").textContent = `Waiting to send (${items.length})`;
  $("outbox-how").textContent = live ? "Connected: sending now."
    : "Not connected: these are kept in this tab and sent, in this order, when the board is back.";
  $("outbox-list").replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    li.className = "outbox-item";
    li.dataset.command = item.id;
    li.textContent = describe(item, ctx.board, ctx.words);
    return li;
  }));
  $("outbox-refused").replaceChildren(...refused.map((refusal) => {
    const li = document.createElement("li");
    li.className = "outbox-refused";
    li.dataset.command = refusal.id;
    const what = document.createElement("strong");
    what.textContent = describe(refusal, ctx.board, ctx.words);
    const why = document.createElement("span");
    why.textContent = ` ${refusalText(refusal)} `;
    const dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "link";
    dismiss.dataset.dismiss = refusal.id;
    dismiss.textContent = "Dismiss";
    dismiss.setAttribute("aria-label", `Dismiss: ${what.textContent}`);
    li.append(what, why, dismiss);
    return li;
  }));
}

/** Dismissing a refusal: the Dismiss buttons answer here, not through actions.js. */
export function listenOutbox(ctx, outbox, isLive) {
  const box = $("outbox");
  if (!box) return;
  box.addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-dismiss]");
    if (!button) return;
    outbox.dismiss(button.dataset.dismiss);
    drawOutbox(ctx, outbox, isLive());
  });
}
