/* Attendance: a compact strip with one chip per enrolled member. A chip says the member's
 * mark in words and offers each mark as one tap (aria-pressed shows which is chosen), with
 * the private reason folded away behind "Reason". The chips are made again only when the
 * members change; a mark updates its chip in place, leaving the field a facilitator is in
 * alone. */
import { $, fill, fromTemplate, slot } from "../dom.js";

// The chip's button words; the full label (words.attendance) is each button's tooltip and the
// chip's status text, so the state reads in text, not only in the pressed button's colour.
// A shortened button's name starts with the words it shows (WCAG 2.5.3, label in name: a
// voice-control user says "click Told us"), then says what they stand for.
const SHORT = { present: "Present", late: "Late", absent_notified: "Told us", absent_unnotified: "No word" };
const NAME = { absent_notified: "Told us: absent", absent_unnotified: "No word: absent" };

let rowsFor = null; // the member ids the chips were made for

export const attendance = {
  keys: ["members", "attendance"],
  busy(ctx) {
    const node = $("attendance");
    return rowsFor !== ctx.board.memberIds().join(",") && node.contains(document.activeElement);
  },
  render(ctx) {
    const ids = ctx.board.memberIds(), node = $("attendance");
    if (rowsFor !== ids.join(",")) {
      const rows = ids.map((mid) => attendanceChip(ctx, mid));
      node.replaceChildren(...(rows.length ? rows : [fromTemplate("tpl-attendance-empty")]));
      rowsFor = ids.join(",");
    }
    const labels = Object.fromEntries(ctx.words.attendance);
    for (const mid of ids) {
      const mark = ctx.board.view.attendance[mid], status = mark ? mark.status : "";
      const chip = $(`att-${mid}`), reason = slot(chip, "reason");
      chip.dataset.status = status;
      slot(chip, "status").textContent = status ? labels[status] : "not marked";
      for (const button of chip.querySelectorAll("button.mark")) {
        button.setAttribute("aria-pressed", String(button.dataset.status === status));
      }
      if (reason !== document.activeElement) reason.value = mark ? mark.reason : "";
    }
  },
};

function attendanceChip(ctx, mid) {
  const name = ctx.board.view.members[mid].name;
  const chip = fill(fromTemplate("tpl-attendance-row"), { name });
  chip.id = `att-${mid}`;
  chip.dataset.member = mid;
  const marks = slot(chip, "marks");
  marks.setAttribute("aria-label", `Attendance of ${name}`);
  for (const [status, label] of ctx.words.attendance) {
    const button = fromTemplate("tpl-mark-button");
    button.textContent = SHORT[status] || label;
    if (NAME[status]) button.setAttribute("aria-label", NAME[status]);
    button.title = label;
    button.dataset.member = mid;
    button.dataset.status = status;
    marks.append(button);
  }
  const reason = slot(chip, "reason");
  reason.dataset.member = mid;
  reason.setAttribute("aria-label", `Private reason for ${name}`);
  return chip;
}
