// Small DOM helpers for the web app: element creation without innerHTML (no markup injection).

export const $ = (selector, root = document) => root.querySelector(selector);

/** `h("p", {class: "meta"}, "text", child)`: attributes set as attributes, `on*` as listeners. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return element;
}

export function options(select, choices, selected) {
  select.replaceChildren(
    ...choices.map(([value, label]) => h("option", { value, selected: String(value) === String(selected ?? "") }, label)),
  );
}

export function showError(form, error) {
  const target = form.querySelector(".form-error");
  target.textContent = error ? (error.message ?? String(error)) : "";
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const shortDate = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

export const formatDateTime = (iso) => (iso ? dateTime.format(new Date(iso)) : "");
export const formatShortDate = (iso) => (iso ? shortDate.format(new Date(iso)) : "");

/** ISO → the value of an `<input type="datetime-local">` (local time), and back. */
export function toLocalInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

export const fromLocalInput = (value) => (value ? new Date(value).toISOString() : null);
