// The notification bell (unread count), the inbox panel and the toasts.
import { $, formatDateTime, h } from "./dom.js";

const TOAST_MS = 6000;

/** A toast in the polite live region; `data-shown-at` records when it appeared (ms epoch). */
export function toast(message, kind = "info") {
  const close = h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss" }, "✕");
  const element = h("div", { class: `toast toast-${kind}`, "data-shown-at": Date.now() }, h("p", {}, message), close);
  const remove = () => element.remove();
  close.addEventListener("click", remove);
  setTimeout(remove, TOAST_MS);
  $("#toasts").append(element);
}

export class Inbox {
  constructor(client) {
    this.client = client;
    this.count = 0;
    this.items = [];
    this.bell = $("#bell");
    this.panel = $("#inbox");
    this.bell.addEventListener("click", () => (this.panel.hidden ? this.open() : this.close()));
    $("#inbox-close").addEventListener("click", () => this.close());
    $("#read-all").addEventListener("click", () => this.readAll());
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close();
    });
  }

  /** Unread count and the latest notifications from the REST API (start, and `resync`). */
  async refetch() {
    const [{ count }, page] = await Promise.all([
      this.client.request("/api/v1/notifications/unread-count/"),
      this.client.request("/api/v1/notifications/?page_size=30"),
    ]);
    this.items = page.results;
    this.#setCount(count);
    this.render();
  }

  /** A live `notification.created`. */
  add(notification) {
    if (this.items.some((item) => item.id === notification.id)) return;
    this.items.unshift(notification);
    this.items.length = Math.min(this.items.length, 30);
    if (notification.read_at === null) this.#setCount(this.count + 1);
    this.render();
    toast(notification.message);
  }

  open() {
    this.panel.hidden = false;
    this.bell.setAttribute("aria-expanded", "true");
    (this.panel.querySelector("button.mark-read") ?? $("#inbox-close")).focus();
  }

  close() {
    if (this.panel.hidden) return;
    this.panel.hidden = true;
    this.bell.setAttribute("aria-expanded", "false");
    this.bell.focus();
  }

  async read(notification) {
    const updated = await this.client.request(`/api/v1/notifications/${notification.id}/read/`, { method: "POST" });
    if (notification.read_at === null) this.#setCount(Math.max(0, this.count - 1));
    Object.assign(notification, updated ?? { read_at: new Date().toISOString() });
    this.render();
    (this.panel.querySelector("button.mark-read") ?? $("#read-all")).focus();
  }

  async readAll() {
    await this.client.request("/api/v1/notifications/read-all/", { method: "POST" });
    const now = new Date().toISOString();
    for (const item of this.items) item.read_at ??= now;
    this.#setCount(0);
    this.render();
  }

  #setCount(count) {
    this.count = count;
    const badge = $("#unread-count");
    badge.textContent = count > 99 ? "99+" : String(count);
    badge.dataset.count = String(count);
    $("#bell-label").textContent = `Notifications, ${count} unread`;
  }

  render() {
    const list = $("#inbox-list");
    if (!this.items.length) {
      list.replaceChildren(h("li", { class: "empty" }, "No notifications yet."));
      return;
    }
    list.replaceChildren(
      ...this.items.map((item) =>
        h(
          "li",
          { class: item.read_at ? "read" : "unread", "data-notification-id": item.id },
          h("p", {}, item.message),
          h("time", { datetime: item.created_at }, formatDateTime(item.created_at)),
          item.read_at
            ? null
            : h("button", { type: "button", class: "mark-read button-quiet", onclick: () => this.read(item) }, "Mark read"),
        ),
      ),
    );
  }
}
