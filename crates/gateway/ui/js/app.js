// The Control UI shell: routing between tabs, the gateway connection, and the state every tab
// shares (hello snapshot, sessions, agent identity, pairing list).
//
// Routing is client-side with pushState; every tab is a real link under the base path the page
// was served from (computed from this module's own URL, so a gateway basePath just works).

import { GatewayClient, defaultGatewayUrl, randomId } from "./gateway.js";
import { loadIdentity, signConnect } from "./device.js";
import {
  absorbTokenFromUrl,
  clearDeviceToken,
  getDeviceToken,
  getPassword,
  getSettings,
  onSettings,
  setDeviceToken,
  updateSettings,
} from "./store.js";
import { explainDisconnect, explainNoIdentity } from "./auth-help.js";
import { commandLine, h, replace } from "./dom.js";
import chat from "./tabs/chat.js";
import overview from "./tabs/overview.js";
import sessions from "./tabs/sessions.js";
import channels from "./tabs/channels.js";
import config from "./tabs/config.js";
import sandbox from "./tabs/sandbox.js";
import devices from "./tabs/devices.js";
import logs from "./tabs/logs.js";

export const UI_VERSION = "0.1.0";
const CLIENT_ID = "openclaw-control-ui";
const CLIENT_MODE = "webchat";
const ROLE = "operator";
const SCOPES = ["operator.admin", "operator.approvals", "operator.pairing"];
const TABS = { chat, overview, sessions, channels, config, sandbox, devices, logs };

/** The path the UI is served under, with a trailing slash ("/" or "/openclaw/"). */
const BASE = new URL("../", import.meta.url).pathname;

const $ = (id) => document.getElementById(id);
const instanceId = sessionStorage.getItem("openclaw.instanceId") || randomId();
sessionStorage.setItem("openclaw.instanceId", instanceId);

let identity = null;
let identityProblem = null;
let preferSharedToken = false;
let usedDeviceToken = false;
const shared = { hello: null, health: null, sessions: null, agentIdentity: null, agents: null,
  nodes: null, pairing: null, history: null };
const sharedListeners = new Set();

const gw = new GatewayClient({
  url: () => getSettings().gatewayUrl || defaultGatewayUrl(BASE),
  buildConnect,
});

async function buildConnect(challenge) {
  const settings = getSettings();
  const deviceToken = identity ? getDeviceToken(identity.deviceId, ROLE) : null;
  const token = preferSharedToken && settings.token ? settings.token : deviceToken || settings.token || "";
  usedDeviceToken = Boolean(token) && token === deviceToken && token !== settings.token;
  const platform = navigator.platform || "web";
  const params = {
    minProtocol: 3,
    maxProtocol: 4,
    client: { id: CLIENT_ID, version: UI_VERSION, platform, mode: CLIENT_MODE, instanceId },
    role: ROLE,
    scopes: SCOPES,
    caps: ["tool-events"],
    userAgent: navigator.userAgent,
    locale: navigator.language,
  };
  const auth = {};
  if (token) auth.token = token;
  if (getPassword()) auth.password = getPassword();
  if (Object.keys(auth).length) params.auth = auth;
  if (identity) {
    params.device = await signConnect(identity, {
      clientId: CLIENT_ID,
      clientMode: CLIENT_MODE,
      role: ROLE,
      scopes: SCOPES,
      signedAt: typeof challenge.ts === "number" ? challenge.ts : Date.now(),
      token,
      nonce: challenge.nonce || "",
      platform,
      deviceFamily: "",
    });
  }
  return params;
}

function setShared(patch) {
  Object.assign(shared, patch);
  for (const fn of sharedListeners) fn(shared, patch);
}

/** Default session key: settings, then the gateway's main session, then "main". */
function defaultSessionKey() {
  const defaults = shared.hello && shared.hello.snapshot && shared.hello.snapshot.sessionDefaults;
  return getSettings().sessionKey || (defaults && defaults.mainSessionKey) || "main";
}

function currentSessionKey() {
  const fromUrl = new URLSearchParams(location.search).get("session");
  return fromUrl || getSettings().lastActiveSessionKey || defaultSessionKey();
}

/** Whether an event's session key names the session the UI calls `key`. */
function sameSession(key, eventKey) {
  if (!key || !eventKey) return false;
  if (key === eventKey) return true;
  const agent = (shared.hello && shared.hello.snapshot && shared.hello.snapshot.sessionDefaults &&
    shared.hello.snapshot.sessionDefaults.defaultAgentId) || "main";
  const canon = (k) => (k.startsWith("agent:") ? k : `agent:${agent}:${k}`);
  return canon(key) === canon(eventKey);
}

/** Answers null instead of throwing: used where a missing method should just show nothing. */
async function quiet(method, params) {
  try {
    return await gw.request(method, params);
  } catch {
    return null;
  }
}

function loadSharedOnConnect() {
  const sessionKey = currentSessionKey();
  const history = quiet("chat.history", { sessionKey, limit: 200 });
  setShared({ history: { sessionKey, promise: history } });
  quiet("agent.identity.get", { sessionKey }).then((v) => setShared({ agentIdentity: v }));
  quiet("agents.list", {}).then((v) => setShared({ agents: v }));
  quiet("node.list", {}).then((v) => setShared({ nodes: v }));
  quiet("device.pair.list", {}).then((v) => setShared({ pairing: v }));
  refreshSessions();
}

function refreshSessions() {
  return quiet("sessions.list", {
    includeGlobal: true, includeUnknown: false, activeMinutes: 120, limit: 120,
  }).then((v) => {
    if (v) setShared({ sessions: v });
    return v;
  });
}

// ---- status, health, gate ----

function renderHealth() {
  const pill = $("health-pill");
  let label = "Offline";
  let cls = "bad";
  if (gw.connected) {
    const ok = !shared.health || shared.health.ok !== false;
    label = ok ? "OK" : "Degraded";
    cls = ok ? "good" : "warn";
  } else if (gw.status.state === "connecting") {
    label = "Connecting";
    cls = "warn";
  }
  replace(pill, h("span", { class: `dot ${cls}` }), "Health ", h("strong", null, label));
  pill.title = gw.connected ? "Gateway connected" : "Gateway not connected";
}

function renderConnPill() {
  const st = gw.status;
  const pill = $("conn-pill");
  if (st.state === "disconnected") {
    const why = st.reason || "no answer";
    pill.hidden = false;
    pill.className = "pill pill-error";
    pill.textContent = `Disconnected (${st.code || "no connection"}): ${why}`;
  } else if (st.state === "connecting" && st.attempt > 0) {
    pill.hidden = false;
    pill.className = "pill pill-warn";
    pill.textContent = "Reconnecting…";
  } else {
    pill.hidden = true;
  }
}

function renderGate() {
  const gate = $("gate");
  const help = explainDisconnect(gw.status);
  const parts = [];
  if (identityProblem) {
    parts.push(h("div", { class: "callout callout-warn", role: "note" }, explainNoIdentity(identityProblem)));
  }
  if (help) {
    const retry = gw.status.retryInMs ? ` Next try in ${Math.ceil(gw.status.retryInMs / 1000)} s.` : "";
    const box = h(
      "div",
      { class: help.kind === "pairing" ? "callout callout-pairing" : "callout callout-error", role: "alert" },
      h("h2", { class: "callout-title" }, help.title),
      h("p", null, help.text + retry),
    );
    if (help.commands) {
      box.append(h("p", { class: "muted" }, "On the gateway host:"), ...help.commands.map(commandLine));
    }
    if (help.dockerCommands) {
      box.append(h("p", { class: "muted" }, "With Docker Compose:"), ...help.dockerCommands.map(commandLine));
    }
    if (gw.status.reason && help.kind !== "other") {
      box.append(h("p", { class: "muted small" }, `Gateway said: ${gw.status.reason}`));
    }
    const actions = h("div", { class: "row" },
      h("button", { class: "btn btn-primary", type: "button", onclick: () => reconnect() }, "Retry now"));
    if (currentRoute() !== "overview") {
      actions.append(h("a", { class: "btn", href: `${BASE}overview`, "data-route": "overview" }, "Open Gateway access"));
    }
    box.append(actions);
    parts.push(box);
  }
  replace(gate, parts);
}

function onStatus(st) {
  if (st.state === "connected") {
    preferSharedToken = false;
    const hello = st.hello || {};
    if (identity && hello.auth && hello.auth.deviceToken) {
      setDeviceToken(identity.deviceId, hello.auth.role || ROLE, hello.auth.deviceToken, hello.auth.scopes);
    }
    setShared({ hello, helloAt: Date.now(), health: (hello.snapshot && hello.snapshot.health) || null });
    loadSharedOnConnect();
  } else if (st.state === "disconnected") {
    const help = explainDisconnect(st);
    // A stale device token must not lock the browser out: drop it and use the shared token.
    if (identity && usedDeviceToken && help && /mismatch|token-missing/.test(help.kind)) {
      clearDeviceToken(identity.deviceId, ROLE);
      preferSharedToken = true;
    }
    setShared({ hello: null });
  }
  renderHealth();
  renderConnPill();
  renderGate();
}

function reconnect({ explicitToken = false } = {}) {
  if (explicitToken) preferSharedToken = true;
  gw.reconnectNow();
}

// ---- routing ----

let unmount = null;

function currentRoute() {
  const rest = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "";
  const name = rest.split("/")[0];
  return TABS[name] ? name : "chat";
}

function navigate(route, query, { replaceState = false } = {}) {
  const q = query ? `?${new URLSearchParams(query)}` : "";
  const url = `${BASE}${route}${q}`;
  if (replaceState) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  render();
}

function makeContext() {
  const cleanups = [];
  const ctx = {
    gw,
    shared,
    base: BASE,
    navigate,
    reconnect,
    refreshSessions,
    sessionKey: currentSessionKey,
    defaultSessionKey,
    sameSession,
    quiet,
    toast,
    identity: () => identity,
    identityProblem: () => identityProblem,
    on(event, fn) {
      cleanups.push(gw.on(event, fn));
    },
    onStatus(fn) {
      cleanups.push(gw.onStatus(fn));
    },
    /** Runs fn now if connected and after every (re)connect. */
    onConnected(fn) {
      if (gw.connected) fn();
      cleanups.push(gw.onStatus((st) => st.state === "connected" && fn()));
    },
    onShared(fn) {
      sharedListeners.add(fn);
      cleanups.push(() => sharedListeners.delete(fn));
    },
    every(ms, fn) {
      const t = setInterval(fn, ms);
      cleanups.push(() => clearInterval(t));
    },
    cleanup(fn) {
      cleanups.push(fn);
    },
  };
  return { ctx, dispose: () => cleanups.splice(0).forEach((fn) => fn()) };
}

function render() {
  if (unmount) unmount();
  const route = currentRoute();
  const tab = TABS[route];
  document.title = `${tab.title} · OpenClaw Control`;
  $("page-title").textContent = tab.title;
  $("page-sub").textContent = tab.subtitle;
  for (const a of document.querySelectorAll("#sidebar a[data-route]")) {
    if (a.dataset.route === route) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const view = $("view");
  view.replaceChildren();
  view.className = `view view-${route}`;
  document.body.classList.remove("nav-open");
  const { ctx, dispose } = makeContext();
  const tabCleanup = tab.mount(view, ctx);
  unmount = () => {
    dispose();
    if (typeof tabCleanup === "function") tabCleanup();
  };
  renderGate();
}

// ---- chrome: links, theme, sidebar, toasts ----

function wireLinks() {
  for (const a of document.querySelectorAll("a[data-route]")) {
    a.setAttribute("href", `${BASE}${a.dataset.route}`);
  }
  document.addEventListener("click", (ev) => {
    const a = ev.target.closest && ev.target.closest("a[data-route]");
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
    ev.preventDefault();
    const url = new URL(a.href);
    navigate(a.dataset.route, url.search ? Object.fromEntries(url.searchParams) : null);
  });
  window.addEventListener("popstate", render);
}

function applyTheme() {
  const theme = getSettings().theme || "system";
  document.documentElement.dataset.theme = theme;
  for (const b of document.querySelectorAll("[data-theme-choice]")) {
    b.setAttribute("aria-checked", String(b.dataset.themeChoice === theme));
  }
}

function wireChrome() {
  for (const b of document.querySelectorAll("[data-theme-choice]")) {
    b.addEventListener("click", () => updateSettings({ theme: b.dataset.themeChoice }));
  }
  onSettings(applyTheme);
  applyTheme();
  const toggle = $("nav-toggle");
  const syncNav = () => {
    document.body.classList.toggle("nav-collapsed", Boolean(getSettings().navCollapsed));
    toggle.setAttribute("aria-expanded", String(!getSettings().navCollapsed));
  };
  toggle.addEventListener("click", () => {
    if (window.matchMedia("(max-width: 800px)").matches) {
      document.body.classList.toggle("nav-open");
    } else {
      updateSettings({ navCollapsed: !getSettings().navCollapsed });
      syncNav();
    }
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") document.body.classList.remove("nav-open");
  });
  syncNav();
}

function toast(text, kind = "info") {
  const el = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  $("toasts").append(el);
  setTimeout(() => el.remove(), kind === "error" ? 8000 : 4000);
}

async function boot() {
  const hadToken = absorbTokenFromUrl();
  wireLinks();
  wireChrome();
  if (location.pathname === BASE || location.pathname === BASE.replace(/\/$/, "") || hadToken) {
    const q = new URLSearchParams(location.search);
    if (currentRoute() === "chat" && !q.get("session")) q.set("session", currentSessionKey());
    const qs = q.toString();
    history.replaceState(null, "", `${BASE}${currentRoute()}${qs ? `?${qs}` : ""}`);
  }
  gw.onStatus(onStatus);
  gw.on("health", (payload) => {
    setShared({ health: payload });
    renderHealth();
  });
  gw.on("device.pair.requested", () => quiet("device.pair.list", {}).then((v) => v && setShared({ pairing: v })));
  gw.on("device.pair.resolved", () => quiet("device.pair.list", {}).then((v) => v && setShared({ pairing: v })));
  gw.on("shutdown", (p) => toast(`Gateway is stopping${p && p.reason ? `: ${p.reason}` : ""}. Reconnecting when it is back.`, "warn"));
  render();
  renderHealth();
  const loaded = await loadIdentity();
  if (loaded.ok) identity = loaded.identity;
  else identityProblem = loaded.reason;
  renderGate();
  gw.start();
}

boot();
