// taskflow-client.js — the reference client for TaskFlow Pro (docs/client.md).
// An ES module with no dependencies and no build step: auth with rotating refresh tokens,
// a fetch wrapper for the REST API, and the WebSocket protocol of docs/events.md (auth frame,
// re-auth before expiry, reconnect with backoff and jitter, resume from the last processed
// event id, duplicate dropping, `resync`).

const REFRESH_KEY = "taskflow.refresh";
const LAST_EVENT_KEY = "taskflow.lastEventId";
const CLOSE_BAD_FRAME = 4400; // the client sent something malformed: a bug, not a network fault
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_TOO_MANY_SOCKETS = 4429;
const EVENT_LOG_SIZE = 1000;

/** `"<ms>-<seq>"` → `[ms, seq]` as BigInts (Redis ids are two 64-bit numbers), or null. */
export function parseEventId(text) {
  const match = typeof text === "string" ? /^(\d{1,20})-(\d{1,20})$/.exec(text) : null;
  return match ? [BigInt(match[1]), BigInt(match[2])] : null;
}

/** Event ids compare as number pairs, never as strings: "10-0" is after "9-5". */
export function compareEventIds(a, b) {
  const x = parseEventId(a);
  const y = parseEventId(b);
  if (x === null || y === null) throw new TypeError(`not an event id: ${x === null ? a : b}`);
  if (x[0] !== y[0]) return x[0] < y[0] ? -1 : 1;
  if (x[1] !== y[1]) return x[1] < y[1] ? -1 : 1;
  return 0;
}

// A POST is retried this many times (about 3.5 s in all) with its Idempotency-Key, on these.
const POST_RETRIES = 3;
const RETRY_STATUSES = new Set([409, 502, 503, 504]);
const RETRY_BACKOFF = { initialMs: 500, maxMs: 2000 };

/** A random key for one logical POST: 128 bits, hex (`crypto.randomUUID` needs a secure context;
 * `getRandomValues` does not). */
export function idempotencyKey() {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Exponential backoff with "equal jitter": half the delay fixed, half random. */
export function backoffDelay(attempt, { initialMs = 500, maxMs = 15000, random = Math.random } = {}) {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** The claims of a JWT, unverified (the server verifies; the client only reads `exp`/`iat`). */
export function tokenClaims(token) {
  const part = String(token).split(".")[1] ?? "";
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  try {
    return JSON.parse(atob(base64));
  } catch {
    return {};
  }
}

function pathAndQuery(url) {
  const parsed = new URL(url, "http://localhost");
  return `${parsed.pathname}${parsed.search}`;
}

/** A tiny event emitter: `on` returns a function that unsubscribes. */
export class Emitter {
  #handlers = new Map();

  on(name, handler) {
    if (!this.#handlers.has(name)) this.#handlers.set(name, new Set());
    this.#handlers.get(name).add(handler);
    return () => this.off(name, handler);
  }

  off(name, handler) {
    this.#handlers.get(name)?.delete(handler);
  }

  emit(name, payload) {
    for (const handler of [...(this.#handlers.get(name) ?? [])]) {
      try {
        handler(payload);
      } catch (error) {
        // One faulty listener must not stop the others nor the socket.
        console.error(`taskflow-client: a "${name}" listener failed`, error);
      }
    }
  }
}

/** A non-2xx answer of the REST API: `status` and the parsed JSON `body` (DRF's error shape). */
export class ApiError extends Error {
  constructor(status, body) {
    super(ApiError.describe(status, body));
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }

  static describe(status, body) {
    if (body && typeof body === "object") {
      if (typeof body.detail === "string") return body.detail;
      const parts = Object.entries(body).map(
        ([field, messages]) => `${field}: ${[].concat(messages).join(" ")}`,
      );
      if (parts.length) return parts.join("; ");
    }
    return `HTTP ${status}`;
  }
}

/** The whole client. Events: the event names (`task.updated`, ...), `event` (every event),
 * `ready`, `resync`, `status` (`connecting|open|closed`), `duplicate`, `signedout`. */
export class TaskflowClient extends Emitter {
  #options;
  #storage;
  #access = null; // { token, refreshAt } — memory only
  #refreshing = null; // the one refresh in flight
  #socket = null;
  #wanted = false; // connect() called and not disconnect()
  #attempt = 0;
  #reconnectTimer = null;
  #reauthTimer = null;
  #status = "closed";
  #resumingFrom = null; // the last_event_id sent in the current socket's auth frame
  #wasReady = false; // a socket of this session reached `ready` before

  /** Ids of the events this client processed, oldest first (bounded); for tests and debugging. */
  eventLog = [];

  constructor(options = {}) {
    super();
    const origin = options.baseUrl ?? globalThis.location?.origin ?? "";
    this.#options = {
      baseUrl: origin.replace(/\/$/, ""),
      wsUrl: options.wsUrl ?? `${origin.replace(/^http/, "ws").replace(/\/$/, "")}/ws`,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      WebSocket: options.WebSocket ?? globalThis.WebSocket,
      random: options.random ?? Math.random,
      now: options.now ?? (() => Date.now()),
      setTimeout: options.setTimeout ?? globalThis.setTimeout.bind(globalThis),
      clearTimeout: options.clearTimeout ?? globalThis.clearTimeout.bind(globalThis),
      backoff: { initialMs: 500, maxMs: 15000, ...options.backoff },
    };
    this.#storage = options.storage ?? globalThis.sessionStorage;
  }

  // ---- auth ---------------------------------------------------------------------------

  get signedIn() {
    return this.#storage.getItem(REFRESH_KEY) !== null;
  }

  get status() {
    return this.#status;
  }

  /** The id of the last event processed (kept in sessionStorage: a reload resumes from it). */
  get lastEventId() {
    return this.#storage.getItem(LAST_EVENT_KEY);
  }

  async register({ username, email, password }) {
    return this.request("/api/v1/auth/register/", {
      method: "POST",
      body: { username, email, password },
      auth: false,
    });
  }

  async login(username, password) {
    const pair = await this.request("/api/v1/auth/token/", {
      method: "POST",
      body: { username, password },
      auth: false,
    });
    // Another user's (or an old session's) position in the stream means nothing now.
    this.#storage.removeItem(LAST_EVENT_KEY);
    this.eventLog = [];
    this.#wasReady = false;
    this.#keep(pair);
  }

  async logout() {
    const refresh = this.#storage.getItem(REFRESH_KEY);
    this.disconnect();
    this.#forget();
    if (refresh !== null) {
      // Best effort: the token is already gone from this tab whatever the server says.
      await this.request("/api/v1/auth/logout/", {
        method: "POST",
        body: { refresh },
        auth: false,
      }).catch(() => {});
    }
    this.emit("signedout", { reason: "logout" });
  }

  /** A valid access token, refreshed first when it is about to expire. */
  async accessToken() {
    if (this.#access !== null && this.#options.now() < this.#access.refreshAt) {
      return this.#access.token;
    }
    return this.refresh();
  }

  /** Trade the refresh token for a new pair. Concurrent callers share one request: a refresh
   * token works once, so a second request with it would be a 401 and sign the user out. */
  refresh() {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #refresh() {
    const refresh = this.#storage.getItem(REFRESH_KEY);
    if (refresh === null) throw new ApiError(401, { detail: "Not signed in." });
    let pair;
    try {
      pair = await this.request("/api/v1/auth/token/refresh/", {
        method: "POST",
        body: { refresh },
        auth: false,
      });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        this.disconnect();
        this.#forget();
        this.emit("signedout", { reason: "expired" });
      }
      throw error;
    }
    this.#keep(pair);
    return pair.access;
  }

  #keep({ access, refresh }) {
    const claims = tokenClaims(access);
    // Measured from now with the token's own lifetime, so a skewed local clock does not matter;
    // renewed when a fifth of the lifetime (at most a minute) is left.
    const lifetimeMs = claims.exp && claims.iat ? (claims.exp - claims.iat) * 1000 : 60_000;
    const leewayMs = Math.min(60_000, lifetimeMs / 5);
    this.#access = { token: access, refreshAt: this.#options.now() + lifetimeMs - leewayMs };
    this.#storage.setItem(REFRESH_KEY, refresh);
    if (this.#status === "open") {
      // A fresh `auth` frame on the open socket pushes the server's expiry back.
      this.#socket?.send(JSON.stringify({ type: "auth", token: access }));
      this.#scheduleReauth();
    }
  }

  #forget() {
    this.#access = null;
    this.#storage.removeItem(REFRESH_KEY);
    this.#storage.removeItem(LAST_EVENT_KEY);
  }

  // ---- REST ---------------------------------------------------------------------------

  /** `fetch` with the base URL, the bearer token and one retry after a refresh on 401. */
  async fetch(path, init = {}, { auth = true } = {}) {
    const send = async () => {
      const headers = new Headers(init.headers);
      if (auth) headers.set("Authorization", `Bearer ${await this.accessToken()}`);
      return this.#options.fetch(`${this.#options.baseUrl}${path}`, { ...init, headers });
    };
    const response = await send();
    if (response.status === 401 && auth) {
      await this.refresh();
      return send();
    }
    return response;
  }

  /** JSON in, JSON out; a non-2xx answer throws `ApiError`.
   *
   * A signed-in POST carries an `Idempotency-Key` (docs/api.md "Retries") and is retried with
   * the same key when no answer came (a network error) or the gateway or core could not answer
   * (502, 503, 504) or the first try is still running (409): the server does the work once. */
  async request(path, { method = "GET", body, headers = {}, auth = true } = {}) {
    const init = { method, headers: { Accept: "application/json", ...headers } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const retrying = method === "POST" && auth;
    if (retrying && !Object.keys(init.headers).some((name) => name.toLowerCase() === "idempotency-key")) {
      init.headers["Idempotency-Key"] = idempotencyKey();
    }
    let response;
    for (let attempt = 0; ; attempt += 1) {
      const last = !retrying || attempt >= POST_RETRIES;
      try {
        response = await this.fetch(path, init, { auth });
      } catch (error) {
        if (last) throw error;
        await this.#pause(attempt);
        continue;
      }
      if (last || !RETRY_STATUSES.has(response.status)) break;
      await this.#pause(attempt);
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { detail: text.slice(0, 200) };
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  #pause(attempt) {
    const delay = backoffDelay(attempt, { ...RETRY_BACKOFF, random: this.#options.random });
    return new Promise((resolve) => this.#options.setTimeout(resolve, delay));
  }

  /** Every item of a paginated list, following `next` (bounded by `maxPages`). */
  async list(path, { maxPages = 20 } = {}) {
    const items = [];
    let next = path;
    for (let page = 0; next && page < maxPages; page += 1) {
      const data = await this.request(next);
      items.push(...data.results);
      // `next` is absolute; keep its path and query so that it goes through this.fetch.
      next = data.next ? pathAndQuery(data.next) : null;
    }
    return items;
  }

  // ---- the socket ---------------------------------------------------------------------

  /** Open the socket and keep it open (reconnecting) until `disconnect()`. */
  connect() {
    this.#wanted = true;
    if (this.#socket === null && this.#reconnectTimer === null) this.#open();
  }

  disconnect() {
    this.#wanted = false;
    this.#options.clearTimeout(this.#reconnectTimer);
    this.#options.clearTimeout(this.#reauthTimer);
    this.#reconnectTimer = this.#reauthTimer = null;
    const socket = this.#socket;
    this.#socket = null;
    socket?.close(1000);
    this.#setStatus("closed");
  }

  /** Reconnect now instead of waiting out the backoff (e.g. when the browser is back online). */
  reconnectNow() {
    if (!this.#wanted || this.#socket !== null) return;
    this.#options.clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    this.#open();
  }

  #setStatus(status) {
    if (status === this.#status) return;
    this.#status = status;
    this.emit("status", status);
  }

  #open() {
    this.#setStatus("connecting");
    const socket = new this.#options.WebSocket(this.#options.wsUrl);
    this.#socket = socket;
    socket.onopen = async () => {
      let token;
      try {
        token = await this.accessToken();
      } catch {
        socket.close(1000);
        return;
      }
      if (this.#socket !== socket) return;
      this.#resumingFrom = this.lastEventId;
      socket.send(JSON.stringify({ type: "auth", token, last_event_id: this.#resumingFrom }));
    };
    socket.onmessage = ({ data }) => {
      if (this.#socket === socket) this.#receive(data);
    };
    socket.onclose = ({ code, reason }) => {
      if (this.#socket !== socket) return; // a socket we already let go of
      this.#socket = null;
      this.#options.clearTimeout(this.#reauthTimer);
      this.#setStatus("closed");
      if (code === CLOSE_BAD_FRAME) {
        // Retrying would send the same frame again: stop, and tell the app (docs/protocol.md).
        this.#wanted = false;
        this.emit("protocolerror", { code, reason });
        return;
      }
      if (this.#wanted) this.#scheduleReconnect(code);
    };
  }

  #receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.type === "ready") {
      this.#attempt = 0;
      this.#setStatus("open");
      this.#scheduleReauth();
      this.emit("ready", { user: frame.user, resumedFrom: this.#resumingFrom });
      if (this.#wasReady && this.#resumingFrom === null) {
        // Connected before but never got an event, so there is no id to resume from: whatever
        // happened while we were away can only be read from the REST API.
        this.emit("resync", { reason: "no-position" });
      }
      this.#wasReady = true;
    } else if (frame.type === "resync") {
      // The server cannot replay from our id (too old, or the stream was recreated, whose new
      // ids may be smaller): forget it, so that no fresh event is taken for a duplicate.
      this.#storage.removeItem(LAST_EVENT_KEY);
      this.emit("resync", { reason: "server" });
    } else if (frame.type === "event") {
      this.#process(frame);
    }
  }

  #process(frame) {
    const last = this.lastEventId;
    if (parseEventId(frame.id) === null) return;
    if (last !== null && compareEventIds(frame.id, last) <= 0) {
      this.emit("duplicate", frame);
      return;
    }
    this.#storage.setItem(LAST_EVENT_KEY, frame.id);
    this.eventLog.push(frame.id);
    if (this.eventLog.length > EVENT_LOG_SIZE) this.eventLog.shift();
    this.emit(frame.event, frame);
    this.emit("event", frame);
  }

  #scheduleReconnect(code) {
    const attempt = this.#attempt;
    this.#attempt += 1;
    const backoff = { ...this.#options.backoff, random: this.#options.random };
    let delay = backoffDelay(attempt, backoff);
    if (code === CLOSE_UNAUTHORIZED) {
      // Expired or revoked: the next open refreshes first (a 401 there signs the user out).
      this.#access = null;
      if (attempt === 0) delay = 0;
    } else if (code === CLOSE_TOO_MANY_SOCKETS) {
      delay = backoff.maxMs; // other tabs hold the user's sockets: wait the longest
    }
    this.#reconnectTimer = this.#options.setTimeout(() => {
      this.#reconnectTimer = null;
      if (this.#wanted && this.#socket === null) this.#open();
    }, delay);
  }

  #scheduleReauth() {
    this.#options.clearTimeout(this.#reauthTimer);
    if (this.#access === null) return;
    const wait = Math.max(0, this.#access.refreshAt - this.#options.now());
    this.#reauthTimer = this.#options.setTimeout(() => {
      this.#reauthTimer = null;
      // #keep sends the new token on the socket. Offline, this fails quietly: the server closes
      // with 4401 at expiry and the reconnect path refreshes.
      this.refresh().catch(() => {});
    }, wait);
  }
}
