/* Building the board's DOM from the page's <template> elements (templates/boards/_templates.html).
 * Data only ever goes in as textContent, attribute values or form values, never as markup. */

export function $(id) {
  return document.getElementById(id);
}

/** A fresh copy of the template's element. */
export function fromTemplate(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

/** Put text in each named slot ([data-slot=name]); a slot given null (or false) is removed. */
export function fill(node, texts) {
  for (const [name, text] of Object.entries(texts)) {
    const selector = `[data-slot="${name}"]`;
    const slots = [...node.querySelectorAll(selector)];
    if (node.matches(selector)) slots.push(node);
    for (const slot of slots) {
      if (text === null || text === undefined || text === false) slot.remove();
      else slot.textContent = String(text);
    }
  }
  return node;
}

/** The element in a named slot. */
export function slot(node, name) {
  return node.querySelector(`[data-slot="${name}"]`);
}

/** A button that the actions module answers by its data-action (and its other data-*). */
export function actionButton(label, action, data = {}) {
  const button = fromTemplate("tpl-action");
  button.textContent = label;
  button.dataset.action = action;
  for (const [key, value] of Object.entries(data)) button.dataset[key] = String(value);
  return button;
}

export function option(value, label, selected = false) {
  return new Option(label, value, selected, selected);
}

/** Replace a select's options, keeping what was chosen when it is still offered. */
export function setOptions(select, options) {
  const keep = select.value;
  select.replaceChildren(...options);
  if (keep && options.some((o) => o.value === keep)) select.value = keep;
}
