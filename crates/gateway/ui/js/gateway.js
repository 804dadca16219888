// WebSocket client for the gateway protocol (v3/v4): handshake, request/response by id,
// event subscriptions and reconnect with backoff.
//
// The client owns one socket at a time. Callers never see the socket: they call `request`,
// subscribe with `on(event, fn)` and follow the connection with `onStatus(fn)`. Every wait has
// a deadline: the challenge, the connect answer, each request, and the tick watchdog.

const BACKOFF_START_MS = 800;
const BACKOFF_FACTOR = 1.7;
const BACKOFF_MAX_MS = 15000;
const CHALLENGE_TIMEOUT_MS = 10000;
const REQUEST_TIMEOUT_MS = 30000;

export function randomId() {
  if (window.crypto && typeof crypto.randomUUID === "function" && window.isSecureContext) {
    return crypto.randomUUID();
  }
  // randomUUID needs a secure context; getRandomValues does not.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** An error answered by the gateway (`ok:false`) or raised by the client. */
export class GatewayError extends Error {
  constructor(code, message, details) {
    super(message || code);
    this.code = code;
    this.details = details || null;
  }
}

/** The WebSocket URL for this page: same origin, the base path the UI is served under. */
export function defaultGatewayUrl(basePath) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${basePath || "/"}`;
}

export class GatewayClient {
  /**
   * @param {object} opts
   * @param {() => string} opts.url          WebSocket URL to use on each attempt
   * @param {(challenge) => Promise<object>} opts.buildConnect  connect params for a challenge
   */
  constructor(opts) {
    this.opts = opts;
    this.ws = null;
    this.pending = new Map();
    this.handlers = new Map();
    this.statusHandlers = new Set();
    this.attempt = 0;
    this.retryTimer = null;
    this.watchdog = null;
    this.stopped = true;
    this.status = { state: "idle" };
    this.hello = null;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.closeSocket(1000, "client stopped");
  }

  /** Closes the current socket and connects again at once (Connect button). */
  reconnectNow() {
    this.stopped = false;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.closeSocket(1000, "reconnect requested");
    this.open();
  }

  on(event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(fn);
    return () => this.handlers.get(event).delete(fn);
  }

  onStatus(fn) {
    this.statusHandlers.add(fn);
    return () => this.statusHandlers.delete(fn);
  }

  get connected() {
    return this.status.state === "connected";
  }

  /** Sends one request; resolves to its payload or rejects with a GatewayError. */
  request(method, params = {}, timeoutMs = REQUEST_TIMEOUT_MS) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || (!this.connected && method !== "connect")) {
      return Promise.reject(new GatewayError("NOT_CONNECTED", "not connected to the gateway"));
    }
    return this.send(method, params, timeoutMs);
  }

  send(method, params, timeoutMs) {
    const id = randomId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GatewayError("TIMEOUT", `${method} got no answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ type: "req", id, method, params }));
    });
  }

  setStatus(status) {
    this.status = status;
    for (const fn of this.statusHandlers) fn(status);
  }

  open() {
    if (this.stopped) return;
    let url;
    try {
      url = this.opts.url();
      this.ws = new WebSocket(url);
    } catch (err) {
      this.setStatus({ state: "disconnected", code: 0, reason: `bad WebSocket URL: ${err.message}` });
      this.scheduleRetry();
      return;
    }
    const ws = this.ws;
    let lastError = null;
    let challengeTimer = setTimeout(() => {
      if (ws === this.ws) ws.close(4000, "no connect.challenge from the gateway");
    }, CHALLENGE_TIMEOUT_MS);
    this.setStatus({ state: "connecting", url, attempt: this.attempt });

    ws.onmessage = async (msg) => {
      if (ws !== this.ws) return;
      let frame;
      try {
        frame = JSON.parse(msg.data);
      } catch {
        return;
      }
      this.kickWatchdog();
      if (frame.type === "res") {
        this.resolve(frame);
        return;
      }
      if (frame.type !== "event") return;
      if (frame.event === "connect.challenge" && challengeTimer) {
        clearTimeout(challengeTimer);
        challengeTimer = null;
        try {
          const params = await this.opts.buildConnect(frame.payload || {});
          const hello = await this.send("connect", params, CHALLENGE_TIMEOUT_MS);
          this.onHello(hello);
        } catch (err) {
          lastError = err;
          if (ws === this.ws && ws.readyState === WebSocket.OPEN && err.code === "TIMEOUT") {
            ws.close(4000, "connect timed out");
          }
        }
        return;
      }
      this.emit(frame.event, frame.payload, frame);
    };

    ws.onclose = (ev) => {
      clearTimeout(challengeTimer);
      if (ws !== this.ws) return;
      this.ws = null;
      this.hello = null;
      clearTimeout(this.watchdog);
      for (const [, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new GatewayError("NOT_CONNECTED", "connection closed"));
      }
      this.pending.clear();
      const reason = ev.reason || (lastError && lastError.message) || "";
      this.setStatus({
        state: "disconnected",
        code: ev.code,
        reason,
        error: lastError,
        willRetry: !this.stopped,
      });
      this.scheduleRetry();
    };
  }

  onHello(hello) {
    this.attempt = 0;
    this.hello = hello;
    this.kickWatchdog();
    this.setStatus({ state: "connected", hello });
  }

  kickWatchdog() {
    clearTimeout(this.watchdog);
    const tick = this.hello && this.hello.policy && this.hello.policy.tickIntervalMs;
    if (!tick) return;
    const ws = this.ws;
    // A healthy gateway sends at least a tick per interval; twice that of silence means it is gone.
    this.watchdog = setTimeout(() => {
      if (ws && ws === this.ws) ws.close(4000, "tick timeout");
    }, tick * 2 + 1000);
  }

  resolve(frame) {
    const p = this.pending.get(frame.id);
    if (!p) return;
    this.pending.delete(frame.id);
    clearTimeout(p.timer);
    if (frame.ok) {
      p.resolve(frame.payload);
    } else {
      const e = frame.error || {};
      p.reject(new GatewayError(e.code || "ERROR", e.message || "request failed", e.details));
    }
  }

  emit(event, payload, frame) {
    for (const key of [event, "*"]) {
      const set = this.handlers.get(key);
      if (!set) continue;
      for (const fn of set) {
        try {
          fn(payload, frame);
        } catch (err) {
          // A broken view must not stop the other subscribers.
          setTimeout(() => {
            throw err;
          });
        }
      }
    }
  }

  closeSocket(code, reason) {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    ws.onmessage = null;
    ws.onclose = null;
    try {
      ws.close(code, reason);
    } catch {
      // Already closing.
    }
    this.hello = null;
    clearTimeout(this.watchdog);
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new GatewayError("NOT_CONNECTED", "connection closed"));
    }
    this.pending.clear();
  }

  scheduleRetry() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * BACKOFF_FACTOR ** this.attempt);
    this.attempt += 1;
    this.status.retryInMs = Math.round(delay);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }
}
