/* The facilitators' record of the session: open safety items, notes, the activity list and
 * the undo button. The display has none of these. */
import { $, fill, fromTemplate, slot } from "../dom.js";

export const safety = {
  keys: ["safety", "members"],
  render(ctx) {
    const items = ctx.board.view.safety || [];
    $("safety").hidden = items.length === 0;
    $("safety-list").replaceChildren(...items.map((item) => {
      const row = fill(fromTemplate("tpl-safety-item"), {
        member: ctx.board.memberLabel(item.member),
        what: item.source === "disclosure" ? "disclosed in session" : `PHQ-9 item 9 answered ${item.item9}`,
        since: (item.opened_at || "").slice(0, 10),
        "due-at": item.due_at ? new Date(item.due_at).toLocaleString() : null,
      });
      if (!item.due_at) slot(row, "due").remove();
      slot(row, "link").href = `/safety/${encodeURIComponent(item.id)}`;
      return row;
    }));
  },
};

function noteNode(ctx, note) {
  return fill(fromTemplate("tpl-note"), {
    at: (note.at || "").slice(11, 16),
    about: note.member ? ` · ${ctx.board.memberLabel(note.member)}` : null,
    text: note.text,
  });
}

export const notes = {
  keys: ["notes", "members"],
  render(ctx) {
    $("notes").replaceChildren(...(ctx.board.view.notes || []).slice().reverse().map((n) => noteNode(ctx, n)));
  },
  // A note added travels as the list's new items: newest first, the others stay.
  append(ctx, added) {
    for (const note of added) $("notes").prepend(noteNode(ctx, note));
  },
};

// The facilitator's words for an event (server/board/vocabulary.py, EVENT_LABELS).
function describe(ctx, type) {
  return (ctx.words.event_labels || {})[type] || type.replace(/_/g, " ");
}

export const undo = {
  keys: ["undo", "status"],
  render(ctx) {
    const view = ctx.board.view, button = $("undo-btn");
    button.disabled = ctx.readOnly || !view.undo || view.status !== "open";
    button.textContent = view.undo ? `Undo: ${describe(ctx, view.undo.type)}` : "Undo";
    button.dataset.seq = view.undo ? view.undo.seq : "";
  },
};

const ACTIVITY_SHOWN = 30;

export const activity = {
  keys: [],
  render() { /* made of events as they come, not of the view */ },
  event(ctx, event) {
    const list = $("activity");
    const row = fill(fromTemplate("tpl-activity"), {
      seq: `#${event.seq}`, at: (event.at || "").slice(11, 19), what: describe(ctx, event.type),
      actor: event.actor ? ` · ${event.actor.name}` : null,
    });
    row.dataset.seq = event.seq;
    list.prepend(row);
    while (list.children.length > ACTIVITY_SHOWN) list.lastElementChild.remove();
  },
};
