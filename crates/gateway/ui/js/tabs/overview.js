// Overview tab: where the dashboard connects (URL, token, password, default session) and a
// quick read of the gateway: connection, uptime, version, health, status and who is connected.

import { card, field, h, jsonBlock, replace } from "../dom.js";
import { ago, duration } from "../format.js";
import { defaultGatewayUrl } from "../gateway.js";
import { getPassword, getSettings, setPassword, updateSettings } from "../store.js";

export default {
  title: "Overview",
  subtitle: "Connection settings and a quick health read of the gateway.",
  mount,
};

function stat(label, value, cls) {
  return h("div", { class: "stat" }, h("div", { class: "stat-label" }, label),
    h("div", { class: `stat-value ${cls || ""}` }, value));
}

function accessCard(ctx) {
  const s = getSettings();
  const url = h("input", { type: "url", value: s.gatewayUrl, placeholder: defaultGatewayUrl(ctx.base), autocomplete: "off" });
  const token = h("input", { type: "password", value: s.token, placeholder: "gateway token", autocomplete: "off" });
  const reveal = h("button", { class: "btn btn-small", type: "button", "aria-label": "Show token" }, "Show");
  reveal.addEventListener("click", () => {
    token.type = token.type === "password" ? "text" : "password";
    reveal.textContent = token.type === "password" ? "Show" : "Hide";
  });
  const password = h("input", { type: "password", value: getPassword(), placeholder: "only if the gateway uses a password", autocomplete: "off" });
  const session = h("input", { type: "text", value: s.sessionKey, placeholder: ctx.defaultSessionKey() });
  const connect = h("button", { class: "btn btn-primary", type: "submit" }, "Connect");
  const form = h(
    "form",
    { class: "access-form" },
    h("div", { class: "grid-2" },
      field("WebSocket URL", url, "Leave empty to use this page's address."),
      field("Gateway token", h("div", { class: "row nowrap" }, token, reveal), "Stored in this browser."),
      field("Password (not stored)", password),
      field("Default session key", session)),
    h("div", { class: "row" }, connect, h("span", { class: "muted small" }, "Connect applies the changes and reconnects.")),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const newToken = token.value.trim();
    const tokenChanged = newToken !== getSettings().token;
    updateSettings({ gatewayUrl: url.value.trim(), token: newToken, sessionKey: session.value.trim() });
    setPassword(password.value);
    ctx.reconnect({ explicitToken: tokenChanged || Boolean(newToken) });
    ctx.toast("Connecting…");
  });
  return card("Gateway access", "Where this dashboard connects and how it signs in.", null, form);
}

function mount(root, ctx) {
  const snapshotBody = h("div");
  const statusBody = h("div");
  const presenceBody = h("div");
  const deviceBody = h("div");
  const refresh = h("button", { class: "btn", type: "button" }, "Refresh");
  let lastStatus = null;
  let presence = null;
  let lastLoad = null;

  replace(
    root,
    h("div", { class: "grid-2" }, accessCard(ctx),
      card("Gateway", "From the handshake and the latest health report.", refresh, snapshotBody)),
    h("div", { class: "grid-2" },
      card("Connected clients", "Presence beacons the gateway knows about.", null, presenceBody),
      card("This browser", "The device identity used to sign in.", null, deviceBody)),
    card("Status", "The gateway's own summary (`status`).", null, statusBody),
  );

  function renderSnapshot() {
    const hello = ctx.shared.hello;
    const connected = ctx.gw.connected;
    const snap = (hello && hello.snapshot) || {};
    const health = ctx.shared.health;
    const uptime = typeof snap.uptimeMs === "number" ? duration(snap.uptimeMs + (Date.now() - (ctx.shared.helloAt || Date.now()))) : "n/a";
    const tick = hello && hello.policy && hello.policy.tickIntervalMs;
    replace(
      snapshotBody,
      h("div", { class: "grid-3" },
        stat("Status", connected ? "Connected" : "Disconnected", connected ? "good-text" : "warn-text"),
        stat("Uptime", connected ? uptime : "n/a"),
        stat("Version", (hello && hello.server && hello.server.version) || "n/a"),
        stat("Health", health ? (health.ok === false ? "Degraded" : "OK") : "n/a", health && health.ok === false ? "bad-text" : "good-text"),
        stat("Protocol", hello && hello.protocol ? `v${hello.protocol}` : "n/a"),
        stat("Tick", tick ? `${Math.round(tick / 1000)}s` : "n/a")),
      hello ? h("dl", { class: "kv" },
        h("dt", null, "Config"), h("dd", { class: "mono" }, snap.configPath || "n/a"),
        h("dt", null, "State dir"), h("dd", { class: "mono" }, snap.stateDir || "n/a"),
        h("dt", null, "Main session"), h("dd", { class: "mono" }, (snap.sessionDefaults && snap.sessionDefaults.mainSessionKey) || "n/a"),
        h("dt", null, "Auth"), h("dd", null, snap.authMode || (hello.auth && hello.auth.role) || "n/a"),
        h("dt", null, "Loaded"), h("dd", null, lastLoad ? ago(lastLoad) : "n/a")) : null,
      health ? h("details", null, h("summary", null, "Health report"), jsonBlock(health)) : null,
    );
  }

  function renderPresence() {
    const list = Array.isArray(presence) ? presence : ctx.shared.hello && ctx.shared.hello.snapshot && ctx.shared.hello.snapshot.presence;
    if (!Array.isArray(list) || !list.length) {
      replace(presenceBody, h("p", { class: "empty" }, ctx.gw.connected ? "No presence entries." : "Not connected."));
      return;
    }
    replace(presenceBody, h("ul", { class: "plain-list" }, list.map((p) =>
      h("li", null,
        h("strong", null, p.host || p.instanceId || "unknown"), " ",
        [p.mode, p.platform, p.version, p.reason].filter(Boolean).map((t) => h("span", { class: "badge" }, t)),
        h("span", { class: "muted small" }, ` ${ago(p.ts)}`)))));
  }

  function renderDevice() {
    const id = ctx.identity();
    const problem = ctx.identityProblem();
    replace(deviceBody, id
      ? h("dl", { class: "kv" },
        h("dt", null, "Device id"), h("dd", { class: "mono" }, id.deviceId),
        h("dt", null, "Public key"), h("dd", { class: "mono" }, id.publicKey))
      : h("p", { class: "muted" }, problem ? "No device identity in this browser (see the notice above)." : "Loading…"));
  }

  function renderStatus() {
    replace(statusBody, lastStatus ? jsonBlock(lastStatus) : h("p", { class: "empty" }, ctx.gw.connected ? "No status answer." : "Not connected."));
  }

  async function load() {
    const [st, health, pres] = await Promise.all([
      ctx.quiet("status", {}),
      ctx.quiet("health", {}),
      ctx.quiet("system-presence", {}),
    ]);
    lastStatus = st;
    if (health) ctx.shared.health = health;
    presence = Array.isArray(pres) ? pres : pres && Array.isArray(pres.presence) ? pres.presence : null;
    lastLoad = Date.now();
    renderSnapshot();
    renderStatus();
    renderPresence();
  }

  refresh.addEventListener("click", load);
  ctx.onStatus(() => {
    renderSnapshot();
    renderPresence();
    renderStatus();
  });
  ctx.onShared(() => renderSnapshot());
  ctx.on("health", () => renderSnapshot());
  ctx.on("presence", (p) => {
    if (Array.isArray(p)) presence = p;
    else if (p && Array.isArray(p.presence)) presence = p.presence;
    renderPresence();
  });
  ctx.onConnected(load);
  ctx.every(30000, () => ctx.gw.connected && renderSnapshot());
  renderSnapshot();
  renderPresence();
  renderStatus();
  renderDevice();
  setTimeout(renderDevice, 500);
}
