// Unit tests of web/taskflow-client.js with node's test runner (`make jstest`): the pure logic
// (ids, backoff) and the protocol state machine, driven through injected fetch/WebSocket/timers.
// The browser tests (tests/web/test_board.py) run the same module against the real stack.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ApiError,
  TaskflowClient,
  backoffDelay,
  compareEventIds,
  parseEventId,
  tokenClaims,
} from "../../web/taskflow-client.js";

// ---- fakes for what the browser provides ------------------------------------------------------

class MemoryStorage {
  #items = new Map();
  getItem(key) {
    return this.#items.has(key) ? this.#items.get(key) : null;
  }
  setItem(key, value) {
    this.#items.set(key, String(value));
  }
  removeItem(key) {
    this.#items.delete(key);
  }
}

class FakeSocket {
  static all = [];
  constructor(url) {
    this.url = url;
    this.sent = [];
    this.closedWith = null;
    FakeSocket.all.push(this);
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  close(code) {
    this.closedWith = code;
  }
  // server side
  async open() {
    await this.onopen?.();
  }
  frame(frame) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006, reason = "") {
    this.onclose?.({ code, reason });
  }
}

function token(lifetimeSeconds = 900, user = 1) {
  const iat = 1_700_000_000;
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "RS256" })}.${encode({ user_id: user, iat, exp: iat + lifetimeSeconds, n: Math.random() })}.sig`;
}

const json = (status, body) => new Response(JSON.stringify(body), { status });

function setup({ refreshAnswers = [], lifetimeSeconds = 900, answers = {} } = {}) {
  FakeSocket.all = [];
  const calls = [];
  const timers = [];
  let now = 1_000_000;
  let refreshCount = 0;
  const fetch = async (url, init) => {
    const path = new URL(url).pathname;
    calls.push({ path, init });
    if (path === "/api/v1/auth/token/") {
      return json(200, { access: token(lifetimeSeconds), refresh: "refresh-0" });
    }
    if (path === "/api/v1/auth/token/refresh/") {
      const answer = refreshAnswers[refreshCount] ?? 200;
      refreshCount += 1;
      if (answer !== 200) return json(answer, { detail: "Token is invalid or expired" });
      return json(200, { access: token(lifetimeSeconds), refresh: `refresh-${refreshCount}` });
    }
    const scripted = answers[path]?.shift();
    if (scripted instanceof Error) throw scripted;
    if (scripted !== undefined) return json(scripted, { path, status: scripted });
    return json(200, { path });
  };
  const storage = new MemoryStorage();
  const client = new TaskflowClient({
    baseUrl: "http://app.test",
    fetch,
    WebSocket: FakeSocket,
    storage,
    random: () => 0.5,
    now: () => now,
    setTimeout: (fn, ms) => timers.push({ fn, ms, at: now + ms }) - 1,
    clearTimeout: (id) => {
      if (id !== null && id !== undefined && timers[id]) timers[id].cleared = true;
    },
  });
  const runTimers = async () => {
    const due = timers.filter((timer) => !timer.cleared && !timer.ran);
    for (const timer of due) {
      timer.ran = true;
      now = Math.max(now, timer.at);
      await timer.fn();
    }
    await flush();
  };
  return { client, storage, calls, timers, runTimers, advance: (ms) => (now += ms) };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
const event = (id, name = "task.updated") => ({ type: "event", id, event: name, team: 1, data: {} });

async function connected(ctx) {
  await ctx.client.login("ada", "pw");
  ctx.client.connect();
  const socket = FakeSocket.all.at(-1);
  await socket.open();
  socket.frame({ type: "ready", user: 1 });
  return socket;
}

// ---- ids and backoff --------------------------------------------------------------------------

test("event ids compare as number pairs, not as strings", () => {
  assert.equal(compareEventIds("10-0", "9-5"), 1);
  assert.equal(compareEventIds("9-5", "10-0"), -1);
  assert.equal(compareEventIds("5-10", "5-9"), 1);
  assert.equal(compareEventIds("5-9", "5-9"), 0);
  // Redis ids are 64-bit: past 2^53 a Number would call these equal.
  assert.equal(compareEventIds("18446744073709551615-1", "18446744073709551615-0"), 1);
  assert.equal(compareEventIds("9007199254740993-0", "9007199254740992-0"), 1);
});

test("a malformed id is refused, never compared", () => {
  assert.equal(parseEventId("12"), null);
  assert.equal(parseEventId("1-2-3"), null);
  assert.equal(parseEventId(null), null);
  assert.throws(() => compareEventIds("abc", "1-0"), TypeError);
});

test("backoff doubles up to the cap, with jitter in the upper half", () => {
  const at = (attempt, random) => backoffDelay(attempt, { initialMs: 500, maxMs: 15000, random });
  assert.deepEqual([0, 1, 2, 3].map((n) => at(n, () => 1)), [500, 1000, 2000, 4000]);
  assert.equal(at(10, () => 1), 15000);
  assert.equal(at(100, () => 0), 7500);
  assert.equal(at(2, () => 0), 1000);
});

test("token claims are read from the JWT payload", () => {
  assert.equal(tokenClaims(token(60)).exp - tokenClaims(token(60)).iat, 60);
  assert.deepEqual(tokenClaims("garbage"), {});
});

// ---- the socket ---------------------------------------------------------------------------------

test("the auth frame goes first, and events are emitted by name", async () => {
  const ctx = setup();
  const seen = [];
  ctx.client.on("task.updated", (frame) => seen.push(frame.id));
  const socket = await connected(ctx);
  assert.equal(socket.url, "ws://app.test/ws");
  assert.equal(socket.sent[0].type, "auth");
  assert.equal(socket.sent[0].last_event_id, null);
  assert.equal(tokenClaims(socket.sent[0].token).exp - tokenClaims(socket.sent[0].token).iat, 900);
  socket.frame(event("5-0"));
  socket.frame(event("6-0"));
  assert.deepEqual(seen, ["5-0", "6-0"]);
  assert.equal(ctx.client.status, "open");
});

test("duplicates and older ids are dropped; the log holds each id once", async () => {
  const ctx = setup();
  const seen = [];
  const dropped = [];
  ctx.client.on("event", (frame) => seen.push(frame.id));
  ctx.client.on("duplicate", (frame) => dropped.push(frame.id));
  const socket = await connected(ctx);
  for (const id of ["9-0", "10-0", "10-0", "9-9", "10-1"]) socket.frame(event(id));
  assert.deepEqual(seen, ["9-0", "10-0", "10-1"]);
  assert.deepEqual(dropped, ["10-0", "9-9"]);
  assert.deepEqual(ctx.client.eventLog, ["9-0", "10-0", "10-1"]);
});

test("a reconnect resumes from the last processed id, kept in sessionStorage", async () => {
  const ctx = setup();
  const socket = await connected(ctx);
  socket.frame(event("7-3"));
  assert.equal(ctx.storage.getItem("taskflow.lastEventId"), "7-3");
  socket.drop(1006);
  assert.equal(ctx.client.status, "closed");
  await ctx.runTimers();
  const second = FakeSocket.all.at(-1);
  assert.notEqual(second, socket);
  await second.open();
  assert.equal(second.sent[0].last_event_id, "7-3");
  // The replay overlaps what we had: the overlap is dropped.
  second.frame({ type: "ready", user: 1 });
  second.frame(event("7-3"));
  second.frame(event("8-0"));
  assert.deepEqual(ctx.client.eventLog, ["7-3", "8-0"]);
});

test("reconnects back off exponentially with jitter, and reset after ready", async () => {
  const ctx = setup();
  let socket = await connected(ctx);
  const delays = [];
  for (let i = 0; i < 4; i += 1) {
    socket.drop(1006);
    delays.push(ctx.timers.at(-1).ms);
    await ctx.runTimers();
    socket = FakeSocket.all.at(-1);
    await socket.open();
  }
  assert.deepEqual(delays, [375, 750, 1500, 3000]); // random() = 0.5: three quarters of the ceiling
  socket.frame({ type: "ready", user: 1 });
  socket.drop(1006);
  assert.equal(ctx.timers.at(-1).ms, 375);
});

test("resync forgets the id, is emitted once, and smaller fresh ids are accepted", async () => {
  const ctx = setup();
  const resyncs = [];
  ctx.client.on("resync", (info) => resyncs.push(info.reason));
  const socket = await connected(ctx);
  socket.frame(event("500-0"));
  socket.frame({ type: "resync" });
  assert.equal(ctx.client.lastEventId, null);
  socket.frame(event("3-0")); // the stream was recreated: its ids restart
  assert.deepEqual(resyncs, ["server"]);
  assert.deepEqual(ctx.client.eventLog, ["500-0", "3-0"]);
});

test("a reconnect with no id to resume from asks the app to refetch", async () => {
  const ctx = setup();
  const resyncs = [];
  ctx.client.on("resync", (info) => resyncs.push(info.reason));
  const socket = await connected(ctx);
  assert.deepEqual(resyncs, []); // the first connection: the app has just read everything
  socket.drop(1006);
  await ctx.runTimers();
  const second = FakeSocket.all.at(-1);
  await second.open();
  second.frame({ type: "ready", user: 1 });
  assert.deepEqual(resyncs, ["no-position"]);
});

test("a fresh auth frame goes out on the open socket before the token expires", async () => {
  const ctx = setup({ lifetimeSeconds: 300 });
  const socket = await connected(ctx);
  const reauth = ctx.timers.filter((timer) => !timer.cleared).at(-1);
  assert.equal(reauth.ms, 240_000); // a fifth of the lifetime early, at most a minute
  await ctx.runTimers();
  const refreshes = ctx.calls.filter((call) => call.path === "/api/v1/auth/token/refresh/");
  assert.equal(refreshes.length, 1);
  assert.equal(socket.sent.length, 2);
  assert.deepEqual(Object.keys(socket.sent[1]), ["type", "token"]);
  assert.notEqual(socket.sent[1].token, socket.sent[0].token);
  assert.equal(ctx.storage.getItem("taskflow.refresh"), "refresh-1");
});

// ---- auth and REST --------------------------------------------------------------------------------

test("concurrent refreshes share one request (a refresh token works once)", async () => {
  const ctx = setup();
  await ctx.client.login("ada", "pw");
  const tokens = await Promise.all([ctx.client.refresh(), ctx.client.refresh(), ctx.client.refresh()]);
  assert.equal(new Set(tokens).size, 1);
  const refreshes = ctx.calls.filter((call) => call.path === "/api/v1/auth/token/refresh/");
  assert.equal(refreshes.length, 1);
  assert.equal(JSON.parse(refreshes[0].init.body).refresh, "refresh-0");
  assert.equal(ctx.storage.getItem("taskflow.refresh"), "refresh-1"); // rotated
});

test("requests carry the bearer token and refresh it when it is about to expire", async () => {
  const ctx = setup({ lifetimeSeconds: 300 });
  await ctx.client.login("ada", "pw");
  await ctx.client.request("/api/v1/tasks/");
  ctx.advance(250_000);
  await ctx.client.request("/api/v1/tasks/");
  const [first, second] = ctx.calls.filter((call) => call.path === "/api/v1/tasks/");
  const bearer = (call) => call.init.headers.get("Authorization");
  assert.match(bearer(first), /^Bearer /);
  assert.notEqual(bearer(first), bearer(second));
  assert.equal(ctx.calls.filter((call) => call.path.endsWith("/refresh/")).length, 1);
});

test("close 4401 refreshes and reconnects at once; a dead refresh token signs out", async () => {
  const ctx = setup({ refreshAnswers: [200, 401] });
  const signedOut = [];
  ctx.client.on("signedout", (info) => signedOut.push(info.reason));
  const socket = await connected(ctx);
  socket.drop(4401);
  assert.equal(ctx.timers.at(-1).ms, 0);
  await ctx.runTimers();
  let next = FakeSocket.all.at(-1);
  await next.open();
  assert.equal(next.sent[0].type, "auth");
  assert.equal(ctx.storage.getItem("taskflow.refresh"), "refresh-1");
  next.drop(4401); // revoked this time: the refresh answers 401
  await ctx.runTimers();
  next = FakeSocket.all.at(-1);
  await next.open();
  await flush();
  assert.deepEqual(signedOut, ["expired"]);
  assert.equal(ctx.client.signedIn, false);
  assert.equal(next.closedWith, 1000);
  const pending = ctx.timers.filter((timer) => !timer.cleared && !timer.ran);
  assert.deepEqual(pending, []);
});

test("API errors carry the status and DRF's message", async () => {
  const error = new ApiError(400, { title: ["This field may not be blank."] });
  assert.equal(error.message, "title: This field may not be blank.");
  assert.equal(new ApiError(412, { detail: "Stale." }).message, "Stale.");
  assert.equal(new ApiError(502, null).message, "HTTP 502");
});

test("close 4400 (a malformed frame) stops reconnecting and tells the app why", async () => {
  const ctx = setup({});
  const errors = [];
  ctx.client.on("protocolerror", (info) => errors.push(info));
  const socket = await connected(ctx);
  const sockets = FakeSocket.all.length;
  socket.drop(4400, "last_event_id: not a stream id");
  await ctx.runTimers();
  assert.deepEqual(errors, [{ code: 4400, reason: "last_event_id: not a stream id" }]);
  assert.equal(FakeSocket.all.length, sockets); // no new socket
  const pending = ctx.timers.filter((timer) => !timer.cleared && !timer.ran);
  assert.deepEqual(pending, []);
});

// ---- retries --------------------------------------------------------------------------------------

const sentKeys = (ctx, path) =>
  ctx.calls.filter((call) => call.path === path).map((call) => new Headers(call.init.headers).get("Idempotency-Key"));

test("a POST that got no answer is retried with the same Idempotency-Key", async () => {
  const ctx = setup({ answers: { "/api/v1/tasks/": [new TypeError("network down"), 502, 201] } });
  await ctx.client.login("ada", "pw");
  const pending = ctx.client.request("/api/v1/tasks/", { method: "POST", body: { title: "x" } });
  await flush();
  await ctx.runTimers(); // after the network error
  await ctx.runTimers(); // after the 502
  assert.deepEqual(await pending, { path: "/api/v1/tasks/", status: 201 });
  const keys = sentKeys(ctx, "/api/v1/tasks/");
  assert.equal(keys.length, 3);
  assert.match(keys[0], /^[0-9a-f]{32}$/);
  assert.equal(new Set(keys).size, 1);
  // The next POST is another piece of work: another key.
  await ctx.client.request("/api/v1/tasks/", { method: "POST", body: { title: "y" } });
  const [, , , other] = sentKeys(ctx, "/api/v1/tasks/");
  assert.notEqual(other, keys[0]);
});

test("retries stop after three, and errors other than 409/502/503/504 are not retried", async () => {
  const ctx = setup({ answers: { "/api/v1/tasks/": [503, 503, 503, 503, 400] } });
  await ctx.client.login("ada", "pw");
  const verdict = assert.rejects(
    ctx.client.request("/api/v1/tasks/", { method: "POST", body: {} }),
    (error) => error instanceof ApiError && error.status === 503,
  );
  for (let n = 0; n < 3; n += 1) {
    await flush();
    await ctx.runTimers();
  }
  await verdict;
  assert.equal(sentKeys(ctx, "/api/v1/tasks/").length, 4);
  await assert.rejects(
    ctx.client.request("/api/v1/tasks/", { method: "POST", body: {} }),
    (error) => error.status === 400,
  );
  assert.equal(sentKeys(ctx, "/api/v1/tasks/").length, 5);
});

test("GETs, PATCHes and signed-out POSTs carry no key and are not retried", async () => {
  const ctx = setup({ answers: { "/api/v1/tasks/1/": [502, 502] } });
  await ctx.client.login("ada", "pw");
  await assert.rejects(ctx.client.request("/api/v1/tasks/1/"), (error) => error.status === 502);
  await assert.rejects(
    ctx.client.request("/api/v1/tasks/1/", { method: "PATCH", body: {} }),
    (error) => error.status === 502,
  );
  assert.deepEqual(sentKeys(ctx, "/api/v1/tasks/1/"), [null, null]);
  assert.deepEqual(sentKeys(ctx, "/api/v1/auth/token/"), [null]);
});
