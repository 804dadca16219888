// Settings and the cached device token, kept in localStorage.
//
// The keys and shapes match the ones OpenClaw's own dashboard uses, so a browser that already
// talked to an OpenClaw gateway on this origin keeps its token, theme and device token.
// The password is never written anywhere: it lives in memory for the tab only.

const SETTINGS_KEY = "openclaw.control.settings.v1";
const DEVICE_AUTH_KEY = "openclaw.device.auth.v1";

const DEFAULTS = {
  gatewayUrl: "",
  token: "",
  sessionKey: "",
  lastActiveSessionKey: "",
  theme: "system",
  navCollapsed: false,
};

function readJson(key) {
  try {
    const raw = localStorage.getItem(key);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

function writeJson(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled (private mode): settings stay in memory for this tab.
  }
}

let settings = { ...DEFAULTS, ...(readJson(SETTINGS_KEY) || {}) };
let password = "";
const listeners = new Set();

export function getSettings() {
  return settings;
}

export function updateSettings(patch) {
  settings = { ...settings, ...patch };
  writeJson(SETTINGS_KEY, settings);
  for (const fn of listeners) fn(settings);
}

export function onSettings(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The password is kept for this tab only, never stored. */
export function getPassword() {
  return password;
}

export function setPassword(value) {
  password = value || "";
}

/** Cached per-device token issued in hello-ok, keyed by device id and role. */
export function getDeviceToken(deviceId, role) {
  const stored = readJson(DEVICE_AUTH_KEY);
  if (!stored || stored.deviceId !== deviceId) return null;
  const entry = stored.tokens && stored.tokens[role];
  return entry && typeof entry.token === "string" && entry.token ? entry.token : null;
}

export function setDeviceToken(deviceId, role, token, scopes) {
  const stored = readJson(DEVICE_AUTH_KEY);
  const base =
    stored && stored.deviceId === deviceId ? stored : { version: 1, deviceId, tokens: {} };
  base.tokens = base.tokens || {};
  base.tokens[role] = { token, role, scopes: scopes || [], updatedAtMs: Date.now() };
  writeJson(DEVICE_AUTH_KEY, base);
}

export function clearDeviceToken(deviceId, role) {
  const stored = readJson(DEVICE_AUTH_KEY);
  if (!stored || stored.deviceId !== deviceId || !stored.tokens) return;
  delete stored.tokens[role];
  writeJson(DEVICE_AUTH_KEY, stored);
}

/**
 * Takes `#token=<t>` (dashboard link) or a legacy `?token=<t>` out of the address bar,
 * saves the token and returns true when one was found.
 */
export function absorbTokenFromUrl() {
  const url = new URL(location.href);
  const hash = new URLSearchParams(url.hash.startsWith("#") ? url.hash.slice(1) : url.hash);
  const token = hash.get("token") || url.searchParams.get("token");
  if (!token) return false;
  hash.delete("token");
  url.searchParams.delete("token");
  const rest = hash.toString();
  url.hash = rest ? `#${rest}` : "";
  history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  updateSettings({ token: token.trim() });
  return true;
}
