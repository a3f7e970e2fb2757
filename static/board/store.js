/* What the server says the board looks like: a snapshot, then the parts each event replaced
 * (`view`) or the items a list gained (`append`), and the highest seq applied; and the
 * board's words from the page's boot JSON (server/board/vocabulary.py, `page_words`). */

export const GAP = "gap";

export class BoardView {
  constructor(state, isFacilitator, words) {
    this.view = state;
    this.lastSeq = 0; // 0 = take a snapshot
    this.isFacilitator = isFacilitator;
    this.attended = new Set(words.attended); // marks that mean the member was in the room
  }

  takeSnapshot(state, seq) {
    this.view = state;
    this.lastSeq = seq;
  }

  /** Apply an event frame: the names of the replaced parts and the appended items, null
   * for an event already applied, GAP when the facilitator missed one (ask again). The
   * display receives only the events meant for it, so its seqs have gaps by design. */
  applyEvent(frame) {
    const seq = frame.event.seq;
    if (seq <= this.lastSeq) return null;
    if (this.isFacilitator && this.lastSeq && seq !== this.lastSeq + 1) return GAP;
    const replaced = frame.view || {}, appended = frame.append || {};
    for (const key of Object.keys(replaced)) this.view[key] = replaced[key];
    for (const key of Object.keys(appended)) this.view[key] = (this.view[key] || []).concat(appended[key]);
    this.lastSeq = seq;
    return { replaced: Object.keys(replaced), appended };
  }

  caughtUp(seq) {
    this.lastSeq = Math.max(this.lastSeq, seq);
  }

  forgetSeq() {
    this.lastSeq = 0;
  }

  get isNew() {
    return this.view.status === "new";
  }

  // The facilitator view carries full names; the display only its labels (first names or initials).
  memberLabel(id) {
    const member = this.view.members && this.view.members[id];
    if (!member) return "Member";
    return this.isFacilitator ? member.name : member.label;
  }

  facilitatorLabel(id) {
    const facilitator = this.view.facilitators && this.view.facilitators[id];
    if (!facilitator) return "Facilitator";
    return this.isFacilitator ? facilitator.name : facilitator.label;
  }

  counterpartLabel(counterpart) {
    if (!counterpart) return "";
    return counterpart.kind === "facilitator" ? this.facilitatorLabel(counterpart.id) : this.memberLabel(counterpart.id);
  }

  /** Present, late, or not marked yet: the member may be in the room. */
  mayBeHere(memberId) {
    const mark = this.view.attendance && this.view.attendance[memberId];
    return !mark || this.attended.has(mark.status);
  }

  memberIds() {
    return Object.keys(this.view.members || {});
  }
}
