// A tiny element builder: h("button", {type: "button", onclick}, "Move").
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

let ids = 0;
export const uid = (prefix) => `${prefix}-${++ids}`;

// A labelled control: the label's `for` names the control, so screen readers and
// Playwright's getByLabel find it.
export function field(labelText, control) {
  control.id = control.id || uid("f");
  return h("div", {}, h("label", { for: control.id }, labelText), control);
}

export function announce(text) {
  document.getElementById("status").textContent = text;
}

// The problems of a refused request as a list (role=alert), each field with its message
// (and its name, when `labels` knows the field: `fields.inn` -> "INN").
export function problems(error, labels = {}) {
  const named = (f) => (labels[f] ? `${labels[f]} (${f})` : f);
  const items = error.errors?.length
    ? error.errors.map((e) => h("li", {}, e.field ? `${named(e.field)}: ${e.message}` : e.message))
    : [h("li", {}, error.message)];
  return h("ul", { class: "problems", role: "alert" }, items);
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");
