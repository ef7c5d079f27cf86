// The TaskFlow Pro web app: sign in, pick a team, a live board, the notification inbox.
// Everything live comes through taskflow-client.js (docs/client.md).
import { TaskflowClient } from "./taskflow-client.js";
import { Board } from "./board.js";
import { Inbox, toast } from "./inbox.js";
import { $, h, showError } from "./dom.js";

const client = new TaskflowClient();
// The processed-event log (`client.eventLog`) is read by the browser tests and handy in devtools.
window.taskflowClient = client;

const board = new Board(client, { toast });
const inbox = new Inbox(client);
let me = null;
let teams = [];

const LIVE_TEXT = { open: "Live", connecting: "Connecting…", closed: "Reconnecting…" };

function show(view) {
  for (const id of ["auth-view", "teams-view", "board-view"]) $(`#${id}`).hidden = id !== view;
  const signedIn = view !== "auth-view";
  for (const id of ["bell", "sign-out", "live"]) $(`#${id}`).hidden = !signedIn;
  $("#team-switcher").hidden = view !== "board-view";
  if (!signedIn) inbox.close();
}

// ---- live events ---------------------------------------------------------------------------

client.on("status", (status) => {
  const live = $("#live");
  live.dataset.status = status;
  live.textContent = LIVE_TEXT[status];
});
for (const name of ["task.created", "task.updated", "task.deleted"]) client.on(name, (frame) => board.apply(frame));
for (const name of ["comment.created", "comment.updated", "comment.deleted"]) {
  client.on(name, (frame) => board.comments.apply(frame));
}
client.on("notification.created", (frame) => inbox.add(frame.data.notification));
client.on("resync", () => {
  // The server could not replay what we missed: read the current state again.
  inbox.refetch().catch(reportError);
  if (board.team) board.refetch().catch(reportError);
  board.comments.refetch();
});
client.on("signedout", ({ reason }) => {
  me = null;
  board.team = null; // the next user starts from a fresh board
  if (reason === "expired") toast("Your session has ended; please sign in again.", "warning");
  route();
});
window.addEventListener("online", () => client.reconnectNow());

// An event from a team we do not list means someone added us to it: read the teams again.
let teamsReload = null;
client.on("event", (frame) => {
  if (me === null || teams.some((team) => team.id === frame.team) || teamsReload) return;
  teamsReload = client
    .list("/api/v1/teams/?page_size=200")
    .then((fresh) => {
      teams = fresh;
      renderTeams();
      $("#team-select").value = String(board.team?.id ?? "");
    })
    .catch(reportError)
    .finally(() => {
      teamsReload = null;
    });
});

function reportError(error) {
  toast(error.message ?? String(error), "error");
}

// ---- auth ----------------------------------------------------------------------------------

const signInForm = $("#sign-in-form");
signInForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(signInForm);
  try {
    await client.login(String(data.get("username")).trim(), String(data.get("password")));
    showError(signInForm, null);
    signInForm.reset();
    await start();
  } catch (error) {
    showError(signInForm, error.status === 401 ? "Wrong username or password." : error);
  }
});

const registerForm = $("#register-form");
registerForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(registerForm);
  const username = String(data.get("username")).trim();
  const password = String(data.get("password"));
  try {
    await client.register({ username, email: String(data.get("email")).trim(), password });
    await client.login(username, password);
    showError(registerForm, null);
    registerForm.reset();
    await start();
  } catch (error) {
    showError(registerForm, error);
  }
});

$("#sign-out").addEventListener("click", () => client.logout());

// ---- teams ---------------------------------------------------------------------------------

const teamForm = $("#team-form");
teamForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = String(new FormData(teamForm).get("name")).trim();
  if (!name) return showError(teamForm, "Give the team a name.");
  try {
    const team = await client.request("/api/v1/teams/", { method: "POST", body: { name } });
    showError(teamForm, null);
    teamForm.reset();
    teams.push(team);
    location.hash = `#/teams/${team.id}`;
  } catch (error) {
    showError(teamForm, error);
  }
});

$("#team-select").addEventListener("change", (event) => {
  location.hash = `#/teams/${event.target.value}`;
});

function renderTeams() {
  $("#team-list").replaceChildren(
    ...(teams.length
      ? teams.map((team) => h("li", {}, h("a", { href: `#/teams/${team.id}`, class: "team-link" }, team.name)))
      : [h("li", { class: "empty" }, "You are not in a team yet: create one, or ask a teammate to add you.")]),
  );
  const select = $("#team-select");
  select.replaceChildren(...teams.map((team) => h("option", { value: team.id }, team.name)));
}

// ---- routing -------------------------------------------------------------------------------

async function start() {
  me = await client.request("/api/v1/users/me/");
  board.me = me;
  $("#whoami").textContent = me.username;
  teams = await client.list("/api/v1/teams/?page_size=200");
  client.connect();
  await inbox.refetch();
  await route();
}

async function route() {
  if (!client.signedIn) {
    $("#whoami").textContent = "";
    show("auth-view");
    return;
  }
  if (me === null) return start();
  renderTeams();
  const match = /^#\/teams\/(\d+)$/.exec(location.hash);
  const team = match && teams.find((candidate) => candidate.id === Number(match[1]));
  if (!team) {
    board.team = null;
    show("teams-view");
    return;
  }
  show("board-view");
  $("#board-title").textContent = team.name;
  $("#team-select").value = String(team.id);
  document.title = `${team.name} · TaskFlow Pro`;
  if (board.team?.id !== team.id) await board.load(team);
}

window.addEventListener("hashchange", () => route().catch(reportError));
route().catch((error) => {
  show("auth-view");
  reportError(error);
});
