/* The connection badge (role=status, aria-live polite) and the error toast (role=alert). */
import { $ } from "./dom.js";

export function setStatus(root, state, text) {
  const node = $("conn-status");
  if (!node) return;
  // A closed board is connected but no longer live: it is kept as the session's record.
  const closed = state === "live" && root.classList.contains("is-closed");
  node.dataset.state = state;
  node.dataset.closed = closed ? "yes" : "no";
  node.textContent = closed ? "Closed" : text;
  root.classList.toggle("is-offline", state !== "live");
}

let toastTimer = null;

export function toast(text) {
  const node = $("toast");
  if (!node) return;
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 6000);
}
