/* The side column's tabs (Goals, Notes, Activity, Display), after the WAI-ARIA tabs pattern:
 * one tab in the tab order, the arrow keys, Home and End move between tabs and show their
 * panel. Without JavaScript the tab list stays hidden and every panel shows, one under the
 * other. A supervisor who observes uses the tabs too: they show, they command nothing. */

export function setUpTabs(root) {
  for (const list of root.querySelectorAll("[data-tabs]")) tabs(list);
}

function tabs(list) {
  const all = [...list.querySelectorAll('[role="tab"]')];
  const panelOf = (tab) => document.getElementById(tab.getAttribute("aria-controls"));
  for (const tab of all) {
    const panel = panelOf(tab);
    panel.setAttribute("role", "tabpanel");
    panel.setAttribute("aria-labelledby", tab.id);
  }
  function select(chosen, focus) {
    for (const tab of all) {
      const on = tab === chosen;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      panelOf(tab).hidden = !on;
    }
    if (focus) chosen.focus();
  }
  list.addEventListener("click", (ev) => {
    const tab = ev.target.closest('[role="tab"]');
    if (tab) select(tab, false);
  });
  list.addEventListener("keydown", (ev) => {
    const i = all.indexOf(document.activeElement);
    if (i < 0) return;
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: all.length - 1 }[ev.key];
    if (to === undefined) return;
    ev.preventDefault();
    select(all[(to + all.length) % all.length], true);
  });
  list.closest(".side").classList.add("has-tabs");
  list.hidden = false;
  select(all[0], false);
}
