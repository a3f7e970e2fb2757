/* Drawing the board: each section names the parts of the view it is made from, and an
 * event redraws only the sections made from the parts it replaced (or, for a list that
 * only grew, appends to it). A section the user is typing or choosing in waits, and is
 * drawn when the focus leaves it. */
import { agenda, checkin } from "./session.js";
import { activity, notes, safety, undo } from "./record.js";
import { attendance } from "./attendance.js";
import { currentTurn, queue } from "./turn.js";
import { forms } from "./forms.js";
import { goals } from "./goals.js";
import { nextAction } from "./next.js";
import { $ } from "../dom.js";

const closedState = {
  keys: ["status"],
  render(ctx) {
    const closed = ctx.board.view.status === "closed";
    ctx.root.classList.toggle("is-closed", closed);
    const note = $("closed-note"), conn = $("conn-status");
    if (note) note.hidden = !closed;
    if (closed && conn && conn.dataset.state === "live") conn.textContent = "Closed";
  },
};

const DISPLAY = [currentTurn, queue, checkin, agenda, goals, closedState];
const FACILITATOR = [...DISPLAY, nextAction, attendance, safety, notes, forms, undo, activity];

export class BoardRenderer {
  #ctx;
  #sections;
  #waiting = new Set(); // sections not drawn because the user was busy in them

  constructor(ctx) {
    this.#ctx = ctx;
    this.#sections = ctx.isFacilitator ? FACILITATOR : DISPLAY;
    ctx.root.addEventListener("focusout", () => {
      // After the focus has moved: it may have moved within the same section.
      setTimeout(() => { for (const section of [...this.#waiting]) this.#draw(section); }, 0);
    });
  }

  drawAll() {
    if (this.#ctx.board.isNew) return;
    for (const section of this.#sections) this.#draw(section);
  }

  /** After an event: `changes` as BoardView.applyEvent returns them. */
  drawChanges(event, { replaced, appended }) {
    for (const section of this.#sections) if (section.event) section.event(this.#ctx, event);
    if (this.#ctx.board.isNew) return;
    const replacedKeys = new Set(replaced);
    for (const section of this.#sections) {
      const grown = section.keys.filter((key) => key in appended);
      if (section.keys.some((key) => replacedKeys.has(key))) {
        this.#draw(section);
      } else if (grown.length && section.append && !this.#waiting.has(section)) {
        for (const key of grown) section.append(this.#ctx, appended[key]);
      } else if (grown.length) {
        this.#draw(section);
      }
    }
  }

  /** Draw one section again now (a choice was withdrawn). */
  redraw(section) {
    this.#draw(section);
  }

  #draw(section) {
    if (section.busy && section.busy(this.#ctx)) {
      this.#waiting.add(section);
      return;
    }
    this.#waiting.delete(section);
    const refocus = focusKey(document.activeElement);
    section.render(this.#ctx);
    // A keyboard user who pressed a button that is drawn again keeps their place.
    if (refocus && document.activeElement === document.body) {
      const again = this.#ctx.root.querySelector(refocus);
      if (again) again.focus();
    }
  }
}

// A selector for the focused button's equivalent after a redraw, if it has one.
function focusKey(element) {
  if (!element || element === document.body || element.tagName !== "BUTTON") return null;
  if (element.id) return `#${CSS.escape(element.id)}`;
  const data = element.dataset;
  if (!data.action) return null;
  return `button[data-action="${CSS.escape(data.action)}"]` + ["goal", "rating", "turn", "member"]
    .filter((key) => data[key] !== undefined).map((key) => `[data-${key}="${CSS.escape(data[key])}"]`).join("");
}
