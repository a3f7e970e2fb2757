/* The choices in the facilitators' forms: who can be the protagonist or the counterpart
 * of a new turn (those who may be in the room), the goal it serves, whom a note is about,
 * and how the display names members. */
import { $, option, setOptions } from "../dom.js";

export const forms = {
  keys: ["members", "facilitators", "goals", "attendance", "display_labels"],
  render(ctx) {
    const { board } = ctx, members = board.memberIds(), here = members.filter((mid) => board.mayBeHere(mid));
    setOptions($("t-protagonist"), here.map((mid) => option(mid, board.memberLabel(mid))));
    setOptions($("t-counterpart"), [
      ...Object.keys(board.view.facilitators || {}).map((fid) => option(`facilitator:${fid}`, `${board.facilitatorLabel(fid)} (facilitator)`)),
      ...here.map((mid) => option(`member:${mid}`, `${board.memberLabel(mid)} (volunteer)`)),
    ]);
    updateGoalOptions(ctx);
    setOptions($("note-member"), [option("", "The group"), ...members.map((mid) => option(mid, board.memberLabel(mid)))]);
    $("labels-mode").value = board.view.display_labels || "first_name";
  },
};

/** The goals of the protagonist chosen (or None). */
export function updateGoalOptions(ctx) {
  const goals = ctx.board.view.goals || {}, protagonist = $("t-protagonist").value;
  setOptions($("t-goal"), [
    option("", "None"),
    ...Object.keys(goals).filter((gid) => goals[gid].member === protagonist)
      .map((gid) => option(gid, goals[gid].revised_text || goals[gid].text)),
  ]);
}
