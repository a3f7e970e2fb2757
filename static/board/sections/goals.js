/* Goals: on the display the group's goals and their progress; for facilitators every goal
 * of the group and of the members in the room, with progress buttons and a status, in a
 * disclosure per owner (the group's open at first) that stays as the facilitator left it. */
import { $, fill, fromTemplate, option, slot } from "../dom.js";

export const goals = {
  keys: ["goals", "members", "attendance"],
  // A status being chosen keeps its select until the facilitator leaves it.
  busy() {
    const node = $("goals"), focused = document.activeElement;
    return node !== null && node.contains(focused) && focused.tagName === "SELECT";
  },
  render(ctx) {
    const view = ctx.board.view, all = Object.values(view.goals || {}), words = ctx.words;
    const groupGoals = all.filter((g) => !g.member);
    const node = $("goals");
    if (!ctx.isFacilitator) {
      const rows = groupGoals.map((goal) => displayGoal(words, goal));
      node.replaceChildren(...(rows.length ? rows : [fromTemplate("tpl-goals-empty")]));
      return;
    }
    const parts = [ownerBox("group", "Group goals", groupGoals, words)];
    for (const mid of ctx.board.memberIds()) {
      if (!ctx.board.mayBeHere(mid)) continue;
      const own = all.filter((g) => g.member === mid);
      if (own.length) parts.push(ownerBox(mid, ctx.board.memberLabel(mid), own, words));
    }
    node.replaceChildren(...parts);
  },
};

function goalText(goal) {
  return goal.revised_text || goal.text;
}

// Which owners' disclosures are open ("group" or a member id), kept across redraws.
const openOwners = new Set(["group"]);

function ownerBox(owner, label, list, words) {
  const box = fill(fromTemplate("tpl-goal-owner"), {
    owner: label, count: list.length === 1 ? "1 goal" : `${list.length} goals`,
  });
  box.dataset.owner = owner;
  box.open = openOwners.has(owner);
  box.addEventListener("toggle", () => {
    if (box.open) openOwners.add(owner);
    else openOwners.delete(owner);
  });
  box.append(...(list.length ? list.map((goal) => goalRow(words, goal)) : [fromTemplate("tpl-goals-none")]));
  return box;
}

function displayGoal(words, goal) {
  const max = words.rating_max;
  const rated = goal.rating !== null && goal.rating !== undefined;
  const row = fill(fromTemplate("tpl-display-goal"), {
    text: goalText(goal),
    status: goal.status !== "active" ? goal.status : null,
    rating: rated ? "●".repeat(goal.rating) + "○".repeat(max - goal.rating) : null,
  });
  row.dataset.goal = goal.id;
  if (rated) slot(row, "rating").setAttribute("aria-label", `progress ${goal.rating} of ${max}`);
  return row;
}

function goalRow(words, goal) {
  const row = fill(fromTemplate("tpl-goal-row"), { text: goalText(goal), status: goal.status });
  row.dataset.goal = goal.id;
  const ratings = slot(row, "ratings");
  for (let rating = 0; rating <= words.rating_max; rating++) {
    const button = fromTemplate("tpl-rating-button");
    button.textContent = String(rating);
    button.dataset.goal = goal.id;
    button.dataset.rating = String(rating);
    button.classList.toggle("chosen", goal.rating === rating);
    button.setAttribute("aria-pressed", String(goal.rating === rating));
    ratings.append(button);
  }
  const select = slot(row, "status-select");
  select.dataset.goal = goal.id;
  select.append(...words.goal_statuses.map((status) => option(status, status, goal.status === status)));
  return row;
}
