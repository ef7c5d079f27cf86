// The board: one column per status, cards kept up to date from REST answers and live events.
import { ApiError } from "./taskflow-client.js";
import { Comments } from "./comments.js";
import { $, formatDateTime, formatShortDate, fromLocalInput, h, options, showError, toLocalInput } from "./dom.js";

export const STATUSES = [
  ["todo", "To do"],
  ["in_progress", "In progress"],
  ["blocked", "Blocked"],
  ["done", "Done"],
  ["cancelled", "Cancelled"],
];
export const PRIORITIES = [
  ["low", "Low"],
  ["medium", "Medium"],
  ["high", "High"],
  ["urgent", "Urgent"],
];
const FIELD_LABELS = {
  title: "Title",
  description: "Description",
  status: "Status",
  priority: "Priority",
  assignee: "Assignee",
  due_at: "Due",
};
const PRIORITY_RANK = { urgent: 0, high: 1, medium: 2, low: 3 };
const label = (choices, value) => choices.find(([key]) => key === value)?.[1] ?? value;

export class Board {
  constructor(client, { toast }) {
    this.client = client;
    this.toast = toast;
    this.team = null;
    this.tasks = new Map(); // id → task, the newest version seen
    this.deleted = new Set(); // ids deleted while a list was loading: never resurrected
    this.members = new Map(); // user id → username
    this.editing = null; // { id, version } of the task in the dialog
    this.me = null; // {id, username}: set by the app once signed in
    this.root = $("#board");
    this.columns = new Map(
      STATUSES.map(([status, title]) => {
        const list = h("div", { class: "cards", role: "list" });
        const count = h("span", { class: "count" }, "0");
        const column = h(
          "section",
          { class: "column", "data-status": status, "aria-labelledby": `column-${status}` },
          h("h2", { id: `column-${status}` }, h("span", { class: "dot", "aria-hidden": "true" }), title, count),
          list,
        );
        return [status, { column, list, count }];
      }),
    );
    this.root.replaceChildren(...[...this.columns.values()].map(({ column }) => column));
    this.#bindForms();
    this.comments = new Comments(client, this);
  }

  // ---- data -----------------------------------------------------------------------------

  async load(team) {
    this.team = team;
    this.tasks.clear();
    this.deleted.clear();
    this.render();
    await this.refetch();
  }

  /** Re-read members and tasks (first load, and after `resync`). */
  async refetch() {
    const team = this.team;
    // Tasks that arrive (by event or answer) while the list is read are newer than the list.
    const touched = new Set();
    this.touched = touched;
    const [tasks] = await Promise.all([
      this.client.list(`/api/v1/tasks/?team=${team.id}&page_size=200`),
      this.refetchMembers(),
    ]);
    if (this.team !== team) return;
    const seen = new Set(tasks.map((task) => task.id));
    for (const id of this.tasks.keys()) if (!seen.has(id) && !touched.has(id)) this.tasks.delete(id);
    for (const task of tasks) this.upsert(task);
    this.render();
  }

  async refetchMembers() {
    const team = this.team;
    const members = await this.client.list(`/api/v1/teams/${team.id}/members/?page_size=200`);
    if (this.team !== team) return;
    this.members = new Map(members.map((member) => [member.user.id, member.user.username]));
    this.#fillMemberSelects();
  }

  /** Keep the newest version: a REST answer and an event for the same change may cross. */
  upsert(task) {
    if (this.team === null || task.team !== this.team.id || this.deleted.has(task.id)) return false;
    const known = this.tasks.get(task.id);
    if (known && known.version >= task.version) return false;
    this.tasks.set(task.id, task);
    this.touched?.add(task.id);
    if (task.assignee !== null && !this.members.has(task.assignee) && !this.membersLoading) {
      // Someone we do not know yet was assigned: a member added since we read the list.
      this.membersLoading = this.refetchMembers()
        .then(() => this.render())
        .catch(() => {})
        .finally(() => {
          this.membersLoading = null;
        });
    }
    return true;
  }

  remove(id) {
    this.deleted.add(id);
    this.touched?.delete(id);
    return this.tasks.delete(id);
  }

  /** A live `task.*` event. */
  apply(frame) {
    if (this.team === null || frame.team !== this.team.id) return;
    const task = frame.data.task;
    const changed = frame.event === "task.deleted" ? this.remove(task.id) : this.upsert(task);
    if (changed) this.render(task.id);
  }

  // ---- rendering --------------------------------------------------------------------------

  render(flashId = null) {
    const byStatus = new Map(STATUSES.map(([status]) => [status, []]));
    for (const task of this.tasks.values()) byStatus.get(task.status)?.push(task);
    // Cards are rebuilt; keep the keyboard user's place on the card they were on.
    const focused = document.activeElement?.closest?.(".card")?.dataset.taskId;
    for (const [status, tasks] of byStatus) {
      tasks.sort(
        (a, b) => PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || b.id - a.id,
      );
      const { list, count } = this.columns.get(status);
      list.replaceChildren(...tasks.map((task) => this.#card(task, task.id === flashId)));
      count.textContent = String(tasks.length);
      if (focused) list.querySelector(`[data-task-id="${focused}"] .card-status`)?.focus();
      if (!tasks.length) list.append(h("p", { class: "empty" }, "Nothing here"));
    }
  }

  #card(task, flash) {
    const assignee = task.assignee === null ? null : this.members.get(task.assignee) ?? `#${task.assignee}`;
    const status = h("select", { id: `status-${task.id}`, class: "card-status" });
    options(status, STATUSES, task.status);
    status.addEventListener("change", () => this.#move(task.id, status.value));
    const overdue = task.due_at && new Date(task.due_at) < new Date() && !["done", "cancelled"].includes(task.status);
    return h(
      "article",
      {
        class: `card${flash ? " flash" : ""}`,
        role: "listitem",
        "data-task-id": task.id,
        "data-version": task.version,
        "aria-labelledby": `task-${task.id}-title`,
      },
      h(
        "h3",
        {},
        h("button", { type: "button", class: "card-title", id: `task-${task.id}-title`, onclick: () => this.edit(task.id) }, task.title),
      ),
      h(
        "p",
        { class: "meta" },
        h("span", { class: `priority priority-${task.priority}` }, label(PRIORITIES, task.priority)),
        assignee ? h("span", { class: "assignee", title: "Assignee" }, h("span", { class: "avatar", "aria-hidden": "true" }, assignee[0].toUpperCase()), assignee) : h("span", { class: "assignee none" }, "Unassigned"),
        task.due_at ? h("span", { class: `due${overdue ? " overdue" : ""}` }, `Due ${formatShortDate(task.due_at)}`) : null,
      ),
      h("label", { class: "visually-hidden", for: `status-${task.id}` }, `Status of “${task.title}”`),
      status,
    );
  }

  #fillMemberSelects() {
    const choices = [["", "Unassigned"], ...[...this.members].map(([id, name]) => [id, name])];
    options($("#task-assignee"), choices, $("#task-assignee").value);
    options($("#edit-assignee"), choices, $("#edit-assignee").value);
  }

  // ---- writes ----------------------------------------------------------------------------

  async #move(id, status) {
    const task = this.tasks.get(id);
    try {
      this.#save(await this.#patch(task, { status }));
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) {
        const fresh = await this.client.request(`/api/v1/tasks/${id}/`);
        this.#save(fresh, true);
        this.toast(`“${fresh.title}” was changed by someone else; the board shows its current state.`, "warning");
      } else {
        this.toast(`Could not move the task: ${error.message}`, "error");
        this.render();
      }
    }
  }

  #patch(task, changes) {
    return this.client.request(`/api/v1/tasks/${task.id}/`, {
      method: "PATCH",
      body: changes,
      headers: { "If-Match": `"${task.version}"` },
    });
  }

  #save(task, force = false) {
    if (force) this.tasks.delete(task.id);
    if (this.upsert(task) || force) this.render(task.id);
  }

  #bindForms() {
    options($("#task-priority"), PRIORITIES, "medium");
    options($("#edit-status"), STATUSES);
    options($("#edit-priority"), PRIORITIES);
    const taskForm = $("#task-form");
    taskForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(taskForm);
      const title = String(data.get("title")).trim();
      if (!title) return showError(taskForm, "Give the task a title.");
      try {
        const task = await this.client.request("/api/v1/tasks/", {
          method: "POST",
          body: {
            team: this.team.id,
            title,
            priority: data.get("priority"),
            assignee: data.get("assignee") ? Number(data.get("assignee")) : null,
          },
        });
        showError(taskForm, null);
        // Typed ahead while this one was saving? Keep the new text.
        if ($("#task-title").value.trim() === title) $("#task-title").value = "";
        this.#save(task);
        if (document.activeElement === taskForm.querySelector("button")) $("#task-title").focus();
      } catch (error) {
        showError(taskForm, error);
      }
    });

    const memberForm = $("#member-form");
    memberForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const username = String(new FormData(memberForm).get("username")).trim();
      if (!username) return showError(memberForm, "Type a username.");
      try {
        await this.client.request(`/api/v1/teams/${this.team.id}/members/`, { method: "POST", body: { username } });
        showError(memberForm, null);
        $("#member-username").value = "";
        this.toast(`${username} joined ${this.team.name}.`);
        await this.refetch();
      } catch (error) {
        showError(memberForm, error);
      }
    });

    const dialog = $("#task-dialog");
    const editForm = $("#edit-form");
    $("#edit-cancel").addEventListener("click", () => dialog.close());
    editForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#submitEdit();
    });
    $("#edit-delete").addEventListener("click", async () => {
      const { id } = this.editing;
      try {
        await this.client.request(`/api/v1/tasks/${id}/`, { method: "DELETE" });
        this.remove(id);
        this.render();
        dialog.close();
      } catch (error) {
        showError(editForm, error);
      }
    });
  }

  // ---- the editor ------------------------------------------------------------------------

  async edit(id) {
    let task = this.tasks.get(id);
    if (!task) return;
    // An event carries a preview of a long description (docs/protocol.md): edit the whole text,
    // or saving would cut it to the preview.
    if (task.description_truncated) {
      try {
        task = await this.client.request(`/api/v1/tasks/${id}/`);
      } catch (error) {
        this.toast(`Could not open the task: ${error.message}`, "error");
        return;
      }
      this.#save(task, true);
    }
    $("#conflict").hidden = true;
    showError($("#edit-form"), null);
    this.#fillEditor(task);
    $("#task-dialog").showModal();
    $("#edit-title").focus();
    this.comments.open(task);
  }

  #fillEditor(task) {
    $("#task-dialog").dataset.version = task.version;
    $("#edit-title").value = task.title;
    $("#edit-description").value = task.description;
    $("#edit-status").value = task.status;
    $("#edit-priority").value = task.priority;
    $("#edit-assignee").value = task.assignee ?? "";
    $("#edit-due").value = toLocalInput(task.due_at);
    // What the form showed, so that a 412 can list exactly the fields this user changed.
    this.editing = { id: task.id, version: task.version, shown: this.#editorValues() };
  }

  #editorValues() {
    const due = $("#edit-due").value;
    return {
      title: $("#edit-title").value.trim(),
      description: $("#edit-description").value,
      status: $("#edit-status").value,
      priority: $("#edit-priority").value,
      assignee: $("#edit-assignee").value ? Number($("#edit-assignee").value) : null,
      due_at: fromLocalInput(due),
    };
  }

  async #submitEdit() {
    const form = $("#edit-form");
    const values = this.#editorValues();
    if (!values.title) return showError(form, "Give the task a title.");
    // Only what the user changed, so that an unchanged field never overwrites anything.
    const changes = Object.fromEntries(
      Object.entries(values).filter(([field, value]) => value !== this.editing.shown[field]),
    );
    if (!Object.keys(changes).length) return $("#task-dialog").close();
    try {
      const task = await this.#patch(this.editing, changes);
      this.#save(task);
      $("#task-dialog").close();
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) {
        await this.#showConflict(values);
      } else {
        showError(form, error);
      }
    }
  }

  #describe(field, value) {
    if (field === "assignee") return value === null ? "Unassigned" : this.members.get(value) ?? `#${value}`;
    if (field === "status") return label(STATUSES, value);
    if (field === "priority") return label(PRIORITIES, value);
    if (field === "due_at") return value ? formatDateTime(value) : "No due date";
    return value.length > 80 ? `${value.slice(0, 80)}…` : value;
  }

  /** 412: someone saved first. Show what they saved, keep nothing of ours silently. */
  async #showConflict(mine) {
    const fresh = await this.client.request(`/api/v1/tasks/${this.editing.id}/`);
    this.#save(fresh, true);
    const shown = this.editing.shown;
    const lost = Object.entries(mine)
      .filter(([field, value]) => String(value ?? "") !== String(shown[field] ?? ""))
      .map(([field, value]) => h("li", {}, `${FIELD_LABELS[field]}: “${this.#describe(field, value)}”`));
    const conflict = $("#conflict");
    conflict.replaceChildren(
      h("strong", {}, "This task was changed by someone else while you were editing; your changes were not saved."),
      h("p", {}, `The form now shows the current version (v${fresh.version}, updated ${formatDateTime(fresh.updated_at)}). Review it and save again.`),
      lost.length ? h("p", {}, "Your unsaved values:") : null,
      lost.length ? h("ul", {}, ...lost) : null,
    );
    conflict.hidden = false;
    this.#fillEditor(fresh);
    $("#edit-title").focus();
  }
}
