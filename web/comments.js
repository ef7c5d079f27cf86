// The comments of the task open in the dialog: the thread (oldest first), writing, editing and
// deleting, `@username` mentions and the watch toggle, kept live from `comment.*` events
// (docs/api.md "Comments", "Watchers and mentions"; docs/protocol.md for the event payloads).
import { $, formatDateTime, h, showError } from "./dom.js";

const PAGE_SIZE = 100;
const WORD = /[\p{L}\p{N}_]/u; // what continues a username (docs/api.md)

/**
 * `body` cut into `[text, mentioned]` pieces: an `@name` is `mentioned` when `name` is one of
 * `names` (the usernames of the comment's `mentions`), case-insensitively, not glued to a word
 * before it (`ada@example.com`) nor followed by a letter or digit (`@bobby` is not `@bob`).
 */
export function mentionPieces(body, names) {
  const wanted = [...new Set(names.filter(Boolean).map((name) => name.toLowerCase()))].sort(
    (a, b) => b.length - a.length, // longest first: `@bob.smith` before `@bob`
  );
  const pieces = [];
  let plain = "";
  let index = 0;
  while (index < body.length) {
    const before = index === 0 ? "" : body[index - 1];
    if (body[index] === "@" && !WORD.test(before) && wanted.length) {
      const rest = body.slice(index + 1).toLowerCase();
      const name = wanted.find(
        (candidate) => rest.startsWith(candidate) && !WORD.test(rest[candidate.length] ?? ""),
      );
      if (name) {
        if (plain) pieces.push([plain, false]);
        plain = "";
        pieces.push([body.slice(index, index + 1 + name.length), true]);
        index += 1 + name.length;
        continue;
      }
    }
    plain += body[index];
    index += 1;
  }
  if (plain) pieces.push([plain, false]);
  return pieces;
}

const byAge = (a, b) => new Date(a.created_at) - new Date(b.created_at) || a.id - b.id;

export class Comments {
  /** `board` gives the team (with my `role`), its members (id → username) and `me`. */
  constructor(client, board) {
    this.client = client;
    this.board = board;
    this.taskId = null;
    this.comments = new Map(); // id → comment, the newest version seen
    this.deleted = new Set(); // ids deleted while the list was loading: never resurrected
    this.editingId = null;
    this.watching = null; // true/false once known from this session, else inferred
    this.list = $("#comment-list");
    this.form = $("#comment-form");
    this.input = $("#comment-body");
    this.watchButton = $("#watch-toggle");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#post();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.#post();
      }
    });
    this.watchButton.addEventListener("click", () => this.#toggleWatch());
    $("#task-dialog").addEventListener("close", () => {
      this.taskId = null;
    });
  }

  /** The dialog opened on `task`: read its whole thread. */
  async open(task) {
    this.taskId = task.id;
    this.task = task;
    this.comments.clear();
    this.deleted.clear();
    this.editingId = null;
    this.watching = null;
    this.input.value = "";
    showError(this.form, null);
    this.list.replaceChildren(h("li", { class: "empty" }, "Loading comments…"));
    this.#renderWatch();
    await this.refetch();
  }

  /** Read the thread again (on open, and after `resync`). */
  async refetch() {
    const id = this.taskId;
    if (id === null) return;
    // Comments that arrive (by event or answer) while the list is read are newer than the list.
    const touched = new Set();
    this.touched = touched;
    try {
      const comments = await this.client.list(`/api/v1/tasks/${id}/comments/?page_size=${PAGE_SIZE}`);
      if (this.taskId !== id) return;
      const seen = new Set(comments.map((comment) => comment.id));
      for (const known of this.comments.keys()) {
        if (!seen.has(known) && !touched.has(known)) this.comments.delete(known); // deleted meanwhile
      }
      for (const comment of comments) this.#upsert(comment);
      this.render();
    } catch (error) {
      if (this.taskId === id) showError(this.form, error);
    }
  }

  /** A live `comment.created|updated|deleted`. */
  apply(frame) {
    const comment = frame.data.comment;
    if (this.taskId === null || comment.task !== this.taskId) return;
    if (frame.event === "comment.deleted") {
      this.deleted.add(comment.id);
      if (!this.comments.delete(comment.id)) return;
      if (this.editingId === comment.id) this.editingId = null;
    } else {
      const me = this.board.me;
      const isNew = !this.comments.has(comment.id);
      if (!this.#upsert(comment)) return;
      // Commenting or being mentioned makes me a watcher again (docs/api.md).
      if (isNew && me && (comment.author.id === me.id || comment.mentions.includes(me.id))) this.watching = true;
    }
    this.render(comment.id);
  }

  #upsert(comment) {
    if (this.deleted.has(comment.id)) return false;
    const known = this.comments.get(comment.id);
    if (known && new Date(known.updated_at) > new Date(comment.updated_at)) return false;
    this.comments.set(comment.id, comment);
    this.touched?.add(comment.id);
    return true;
  }

  // ---- rendering --------------------------------------------------------------------------

  render(flashId = null) {
    const comments = [...this.comments.values()].sort(byAge);
    $("#comments-count").textContent = comments.length ? `(${comments.length})` : "";
    // Keep what is being typed into an open edit box across a re-render.
    const box = this.list.querySelector(".comment-edit textarea");
    const draft = box && box.id === `comment-edit-${this.editingId}` ? box.value : undefined;
    if (!comments.length) {
      this.list.replaceChildren(h("li", { class: "empty" }, "No comments yet."));
    } else {
      this.list.replaceChildren(...comments.map((comment) => this.#item(comment, comment.id === flashId, draft)));
    }
    this.#renderWatch();
  }

  #item(comment, flash, draft) {
    const me = this.board.me;
    const mine = me !== null && comment.author.id === me.id;
    const manager = ["owner", "admin"].includes(this.board.team?.role);
    const names = comment.mentions.map((id) => this.board.members.get(id));
    const editing = this.editingId === comment.id && mine;
    const body = editing
      ? this.#editor(comment, draft)
      : h(
          "p",
          { class: "comment-body" },
          ...mentionPieces(comment.body, names).map(([text, mention]) =>
            mention ? h("mark", { class: "mention" }, text) : text,
          ),
        );
    const actions = editing
      ? null
      : h(
          "div",
          { class: "comment-actions" },
          mine
            ? h("button", { type: "button", class: "button-quiet", "aria-label": "Edit comment", onclick: () => this.#startEdit(comment.id) }, "Edit")
            : null,
          mine || manager
            ? h("button", { type: "button", class: "button-quiet danger", "aria-label": "Delete comment", onclick: () => this.#delete(comment.id) }, "Delete")
            : null,
        );
    return h(
      "li",
      { class: `comment${flash ? " flash" : ""}`, "data-comment-id": comment.id, "aria-labelledby": `comment-${comment.id}-by` },
      h(
        "p",
        { class: "comment-head", id: `comment-${comment.id}-by` },
        h("span", { class: "avatar", "aria-hidden": "true" }, comment.author.username[0].toUpperCase()),
        h("strong", {}, comment.author.username),
        h("time", { datetime: comment.created_at }, formatDateTime(comment.created_at)),
        comment.edited ? h("span", { class: "edited", title: `Edited ${formatDateTime(comment.updated_at)}` }, "edited") : null,
      ),
      body,
      actions,
    );
  }

  #editor(comment, draft) {
    const id = `comment-edit-${comment.id}`;
    const area = h("textarea", { id, rows: 3, maxlength: 10000 });
    area.value = draft ?? comment.body;
    const save = () => this.#saveEdit(comment.id, area.value);
    area.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        save();
      } else if (event.key === "Escape") {
        event.preventDefault(); // cancel the edit, not the dialog
        event.stopPropagation();
        this.#stopEdit(comment.id);
      }
    });
    return h(
      "div",
      { class: "comment-edit" },
      h("label", { for: id, class: "visually-hidden" }, "Edit your comment"),
      area,
      h(
        "div",
        { class: "comment-actions" },
        h("button", { type: "button", onclick: () => this.#stopEdit(comment.id) }, "Cancel"),
        h("button", { type: "button", class: "button-primary", onclick: save }, "Save comment"),
      ),
    );
  }

  #renderWatch() {
    const watching = this.watching ?? this.#inferWatching();
    this.watchButton.setAttribute("aria-pressed", String(watching));
    this.watchButton.textContent = watching ? "Watching" : "Watch";
  }

  /** The API does not say whether I watch a task; these make me a watcher (docs/api.md). */
  #inferWatching() {
    const me = this.board.me;
    const task = this.board.tasks.get(this.taskId) ?? this.task;
    if (!me || !task) return false;
    if (task.created_by === me.id || task.assignee === me.id) return true;
    return [...this.comments.values()].some(
      (comment) => comment.author.id === me.id || comment.mentions.includes(me.id),
    );
  }

  // ---- writes ----------------------------------------------------------------------------

  async #post() {
    const body = this.input.value;
    if (!body.trim()) return showError(this.form, "Write a comment first.");
    const id = this.taskId;
    try {
      const comment = await this.client.request(`/api/v1/tasks/${id}/comments/`, { method: "POST", body: { body } });
      showError(this.form, null);
      if (this.input.value === body) this.input.value = "";
      if (this.taskId !== id) return;
      this.watching = true; // the author becomes a watcher
      if (this.#upsert(comment)) this.render(comment.id);
    } catch (error) {
      showError(this.form, error);
    }
  }

  #startEdit(id) {
    this.editingId = id;
    this.render();
    this.list.querySelector(`#comment-edit-${id}`)?.focus();
  }

  #stopEdit(id) {
    this.editingId = null;
    this.render();
    this.list.querySelector(`[data-comment-id="${id}"] button`)?.focus();
  }

  async #saveEdit(id, body) {
    if (!body.trim()) return showError(this.form, "A comment cannot be empty; delete it instead.");
    try {
      const comment = await this.client.request(`/api/v1/comments/${id}/`, { method: "PATCH", body: { body } });
      showError(this.form, null);
      this.#upsert(comment);
      this.#stopEdit(id);
    } catch (error) {
      showError(this.form, error);
    }
  }

  async #delete(id) {
    try {
      await this.client.request(`/api/v1/comments/${id}/`, { method: "DELETE" });
      showError(this.form, null);
      this.deleted.add(id);
      this.comments.delete(id);
      this.render();
      this.input.focus();
    } catch (error) {
      showError(this.form, error); // e.g. 403: neither its author nor a team owner/admin
    }
  }

  async #toggleWatch() {
    const watch = this.watchButton.getAttribute("aria-pressed") !== "true";
    try {
      await this.client.request(`/api/v1/tasks/${this.taskId}/watch/`, { method: watch ? "POST" : "DELETE" });
      showError(this.form, null);
      this.watching = watch;
      this.#renderWatch();
    } catch (error) {
      showError(this.form, error);
    }
  }
}
