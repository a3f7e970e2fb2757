/* The board's outbox (issue 20): commands issued while the socket is down, or sent and not
 * yet acknowledged when it dropped, kept in order with their command ids until the server
 * answers them; and the ones it refused because the board had moved on, until dismissed.
 *
 * Kept in sessionStorage, one record per meeting, so that reloading the tab loses nothing.
 * Not localStorage: these are clinical words (notes, scenarios, attendance reasons) and must
 * not outlive the tab, nor wait on a shared clinic tablet for the next person. Signing out
 * forgets them too (static/session.js). The record names the person who issued them: after
 * someone else signs in in this tab, their commands are never sent in the new name.
 * Pure: the storage is passed in (null when the browser has none: then kept in memory). */

export const OUTBOX_PREFIX = "groupipt:outbox:"; // static/session.js forgets keys starting so
export const KEPT_MS = 60 * 60 * 1000; // an hour: older commands are not sent, they are shown

export class Outbox {
  #storage;
  #key;
  #user;
  // [{id, command, data, at, waited, sent}] in the order issued. `waited`: issued while the
  // socket was down, or outlived the connection it was sent on; `sent`: on this connection.
  #items = [];
  #refused = []; // [{id, command, data, code, message}]

  constructor(storage, meetingId, userId, now = Date.now()) {
    this.#storage = storage;
    this.#key = OUTBOX_PREFIX + meetingId;
    this.#user = String(userId);
    this.#load(now);
  }

  get items() { return this.#items.slice(); }
  get refused() { return this.#refused.slice(); }
  get size() { return this.#items.length; }
  has(id) { return this.#items.some((item) => item.id === id); }

  /** A new command, kept until answered. `waited`: the socket is down, it waits for it. */
  add(id, command, data, waited, now = Date.now()) {
    this.#items.push({ id, command, data, at: now, waited: Boolean(waited), sent: false });
    this.#save();
  }

  /** The ones not yet sent on this connection, in order. */
  unsent() {
    return this.#items.filter((item) => !item.sent);
  }

  /** How many were sent on this connection and are not answered yet. */
  get inFlight() {
    return this.#items.filter((item) => item.sent).length;
  }

  markSent(id, sent = true) {
    const item = this.#items.find((it) => it.id === id);
    if (item) item.sent = sent;
    return item;
  }

  /** The connection dropped: whatever is still here waits for the next one. */
  holdAll() {
    if (!this.#items.length) return;
    for (const item of this.#items) { item.waited = true; item.sent = false; }
    this.#save();
  }

  /** Acknowledged: the item, or undefined for an id not kept here. */
  acked(id) {
    const item = this.#take(id);
    if (item) this.#save();
    return item;
  }

  /** Refused: the item, or undefined. One that waited stays shown until dismissed;
   * one refused at once, while live, is the page's usual brief message. */
  failed(id, code, message) {
    const item = this.#take(id);
    if (!item) return undefined;
    if (item.waited) this.#refused.push({ id, command: item.command, data: item.data, code, message });
    this.#save();
    return item;
  }

  dismiss(id) {
    this.#refused = this.#refused.filter((r) => r.id !== id);
    this.#save();
  }

  #take(id) {
    const i = this.#items.findIndex((item) => item.id === id);
    return i < 0 ? undefined : this.#items.splice(i, 1)[0];
  }

  #load(now) {
    let record = null;
    try {
      record = this.#storage ? JSON.parse(this.#storage.getItem(this.#key) || "null") : null;
    } catch (e) { /* unreadable: start empty */ }
    if (!record || record.user !== this.#user || !Array.isArray(record.items)) {
      this.#save(); // another person's, or nothing: not ours to send
      return;
    }
    this.#refused = Array.isArray(record.refused) ? record.refused : [];
    for (const item of record.items) {
      if (now - item.at > KEPT_MS) {
        this.#refused.push({ id: item.id, command: item.command, data: item.data, code: "too_old",
                             message: "It waited more than an hour and was not sent." });
      } else {
        this.#items.push({ ...item, waited: true, sent: false }); // a reload is a new connection
      }
    }
    this.#save();
  }

  #save() {
    if (!this.#storage) return;
    try {
      if (this.#items.length || this.#refused.length) {
        this.#storage.setItem(this.#key, JSON.stringify({ user: this.#user, items: this.#items, refused: this.#refused }));
      } else {
        this.#storage.removeItem(this.#key);
      }
    } catch (e) { /* full or disabled: the page still holds them until it is closed */ }
  }
}

/** The page's sessionStorage, or null where it is disabled. */
export function tabStorage() {
  try { return window.sessionStorage; } catch (e) { return null; }
}

const COMMAND_WORDS = {
  mark_attendance: "Attendance", start_checkin: "Start the check-in round", next_checkin: "Next in the check-in",
  end_checkin: "End the check-in round", add_turn: "Add a turn", update_turn: "Change a queued turn",
  reorder_queue: "Reorder the queue", favour_new_members: "Members without a turn first",
  start_turn: "Start the turn", pause_turn: "Pause the turn", resume_turn: "Resume the turn",
  end_turn: "End the turn", skip_turn: "Skip the turn", start_role_reversal: "Role reversal",
  start_feedback: "Start feedback", next_feedback: "Next in the feedback round",
  record_next_step: "Next step for the week", start_timer: "Start the agenda timer",
  pause_timer: "Pause the timer", resume_timer: "Resume the timer", extend_timer: "Extend the timer",
  stop_timer: "Stop the timer", rate_goal: "Goal progress", set_goal_status: "Goal status",
  add_note: "Note", set_display_labels: "How the display names members", undo: "Undo",
  close_meeting: "Close the session",
};

/** A waiting command in words: what it does and to whom (`board`: the BoardView). */
export function describe(item, board, words) {
  const what = COMMAND_WORDS[item.command] || item.command.replace(/_/g, " ");
  const data = item.data || {}, view = board.view || {};
  const turn = data.turn && view.turns && view.turns[data.turn];
  if (item.command === "mark_attendance") {
    const label = new Map(words.attendance || []).get(data.status) || data.status;
    return `${what}: ${board.memberLabel(data.member)}, ${label}`;
  }
  if (item.command === "add_turn") return `${what}: ${board.memberLabel(data.protagonist)} · ${data.role_label || ""}`;
  if (turn) return `${what}: ${board.memberLabel(turn.protagonist)} · ${turn.role_label || ""}`;
  if (item.command === "rate_goal") return `${what}: ${data.rating} of ${words.rating_max || 4}`;
  if (item.command === "add_note") return `${what}: ${shorten(data.text)}`;
  return what;
}

/** Why a waiting command was not applied, plainly, in the server's words ("Turn t3 has
 * already ended." reads "the turn has already ended": the item says which turn). */
export function refusalText(refusal) {
  let reason = String(refusal.message || refusal.code || "it no longer applied").trim();
  reason = reason.replace(/^Turn \S+ /, "the turn ").replace(/\.$/, "");
  reason = reason.charAt(0).toLowerCase() + reason.slice(1);
  return `Not applied: ${reason}. The board shows what happened instead.`;
}

function shorten(text) {
  const words = String(text || "");
  return words.length > 40 ? `${words.slice(0, 39)}…` : words;
}
