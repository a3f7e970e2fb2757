/* The board's fixed words: the values the server's commands accept and how the page names
 * them. The page's boot JSON does not carry these lists yet, so they live here, once; the
 * server's rules are in server/board/_decide.py and PROTOCOL.md ("Commands"). */

// mark_attendance {status}: the order the select offers them.
export const ATTENDANCE = [
  ["present", "Present"],
  ["late", "Late"],
  ["absent_notified", "Absent (told us)"],
  ["absent_unnotified", "Absent (no word)"],
];
// Marks that mean the member was in the room (as is "not marked yet").
export const ATTENDED = new Set(["present", "late"]);

// set_goal_status {status}: shown as they are named.
export const GOAL_STATUSES = ["active", "achieved", "revised", "dropped"];
// rate_goal {rating}: 0 (none) to RATING_MAX (achieved), this session.
export const RATING_MAX = 4;

// The stages of a role-play turn and the voices of its feedback round, in order.
export const STAGE_LABELS = {
  practice: "Practice",
  role_reversal: "Role reversal",
  feedback: "Feedback round",
  next_step: "Next step for the week",
};
export const FEEDBACK_VOICES = [
  ["protagonist", "The protagonist: how did that feel?"],
  ["counterpart", "The counterpart"],
  ["observers", "Observers: positive feedback"],
  ["facilitator", "Facilitator"],
];

// How long a timer runs or grows when a button says so.
export const TURN_EXTEND_S = 120;
export const AGENDA_EXTEND_S = 300;
