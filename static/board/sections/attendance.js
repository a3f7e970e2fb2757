/* Attendance: one row per enrolled member, a status and a private reason. The rows are
 * made again only when the members change; a mark updates its row in place, leaving the
 * field a facilitator is in alone. */
import { $, fill, fromTemplate, option, slot } from "../dom.js";

let rowsFor = null; // the member ids the rows were made for

export const attendance = {
  keys: ["members", "attendance"],
  busy(ctx) {
    const node = $("attendance");
    return rowsFor !== ctx.board.memberIds().join(",") && node.contains(document.activeElement);
  },
  render(ctx) {
    const ids = ctx.board.memberIds(), node = $("attendance");
    if (rowsFor !== ids.join(",")) {
      const rows = ids.map((mid) => attendanceRow(ctx, mid));
      node.replaceChildren(...(rows.length ? rows : [fromTemplate("tpl-attendance-empty")]));
      rowsFor = ids.join(",");
    }
    for (const mid of ids) {
      const mark = ctx.board.view.attendance[mid];
      const select = $(`att-${mid}`), reason = node.querySelector(`input.reason[data-member="${CSS.escape(mid)}"]`);
      if (select !== document.activeElement) select.value = mark ? mark.status : "";
      if (reason !== document.activeElement) reason.value = mark ? mark.reason : "";
    }
  },
};

function attendanceRow(ctx, mid) {
  const name = ctx.board.view.members[mid].name;
  const row = fill(fromTemplate("tpl-attendance-row"), { name });
  row.dataset.member = mid;
  const select = slot(row, "status");
  select.id = `att-${mid}`;
  select.dataset.member = mid;
  select.append(...ctx.words.attendance.map(([value, label]) => option(value, label)));
  slot(row, "label").htmlFor = select.id;
  const reason = slot(row, "reason");
  reason.dataset.member = mid;
  reason.setAttribute("aria-label", `Private reason for ${name}`);
  return row;
}
