// Channels tab: the state of each messaging channel, adding a bot token (Telegram, Discord)
// through `config.patch`, WhatsApp QR login and logout.

import { confirmDialog } from "../dialog.js";
import { card, field, h, jsonBlock, replace } from "../dom.js";
import { ago } from "../format.js";

export default {
  title: "Channels",
  subtitle: "Messaging channels: their state, credentials and login.",
  mount,
};

const KNOWN = ["whatsapp", "telegram", "discord"];
const LABELS = { whatsapp: "WhatsApp", telegram: "Telegram", discord: "Discord" };
/** Config path of the bot token for channels set up by token. */
const TOKEN_KEYS = { telegram: "botToken", discord: "token" };

function valueText(v) {
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "number" && v > 1e12) return ago(v);
  return String(v);
}

function statusRows(status) {
  if (!status || typeof status !== "object") return h("p", { class: "muted" }, "No status reported.");
  const dl = h("dl", { class: "kv" });
  for (const [k, v] of Object.entries(status)) {
    if (v === null || v === undefined || typeof v === "object") continue;
    const cls = k === "lastError" ? "bad-text" : "";
    dl.append(h("dt", null, k), h("dd", { class: cls }, valueText(v)));
  }
  return dl.childNodes.length ? dl : h("p", { class: "muted" }, "No status reported.");
}

function mount(root, ctx) {
  const grid = h("div", { class: "grid-cards" });
  const raw = h("div");
  const refresh = h("button", { class: "btn", type: "button" }, "Refresh");
  const probe = h("button", { class: "btn", type: "button", title: "Ask each channel to check its connection" }, "Probe");
  replace(root, h("div", { class: "row" }, refresh, probe), grid,
    card("Raw status", "The `channels.status` answer.", null, raw));

  let last = null;

  async function logout(id) {
    if (!(await confirmDialog(`Log out of ${LABELS[id] || id}?`, "The channel stops and its stored login is removed. You will need to link it again.", { confirmLabel: "Log out", danger: true }))) return;
    try {
      await ctx.gw.request("channels.logout", { channel: id });
      ctx.toast(`${LABELS[id] || id} logged out.`, "good");
    } catch (err) {
      ctx.toast(`Logout failed: ${err.message}`, "error");
    }
    load(false);
  }

  async function saveToken(id, input) {
    const value = input.value.trim();
    if (!value) {
      ctx.toast("Paste the bot token first.", "warn");
      return;
    }
    try {
      const cfg = await ctx.gw.request("config.get", {});
      const patch = { channels: { [id]: { [TOKEN_KEYS[id]]: value } } };
      await ctx.gw.request("config.patch", { raw: JSON.stringify(patch), baseHash: cfg && cfg.hash });
      input.value = "";
      ctx.toast(`${LABELS[id]} token saved. The gateway starts the channel.`, "good");
      setTimeout(() => load(false), 1500);
    } catch (err) {
      ctx.toast(`Could not save the token: ${err.message}`, "error");
    }
  }

  function tokenForm(id) {
    const input = h("input", { type: "password", placeholder: `${LABELS[id]} bot token`, autocomplete: "off" });
    const form = h("form", { class: "row nowrap" }, input, h("button", { class: "btn btn-primary", type: "submit" }, "Save token"));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      saveToken(id, input);
    });
    return field(`Bot token (written to channels.${id}.${TOKEN_KEYS[id]})`, form);
  }

  function whatsappLogin() {
    const area = h("div", { class: "qr-area" });
    const show = h("button", { class: "btn btn-primary", type: "button" }, "Show QR");
    const relink = h("button", { class: "btn", type: "button" }, "Relink");
    const start = async (force) => {
      replace(area, h("p", { class: "muted" }, "Asking the gateway for a QR code…"));
      let res;
      try {
        res = await ctx.gw.request("web.login.start", { force, timeoutMs: 30000 }, 40000);
      } catch (err) {
        replace(area, h("p", { class: "bad-text" }, `Could not start the login: ${err.message}`));
        return;
      }
      const url = res && typeof res.qrDataUrl === "string" && res.qrDataUrl.startsWith("data:image/") ? res.qrDataUrl : null;
      replace(area,
        url ? h("img", { class: "qr", src: url, alt: "WhatsApp login QR code", width: 240, height: 240 }) : null,
        h("p", null, (res && res.message) || (url ? "Scan with WhatsApp → Linked devices." : "No QR code was returned.")));
      if (!url) return;
      try {
        const done = await ctx.gw.request("web.login.wait", { timeoutMs: 120000 }, 130000);
        area.append(h("p", { class: done && done.connected ? "good-text" : "warn-text" },
          (done && done.message) || (done && done.connected ? "Linked." : "Not linked yet.")));
        load(false);
      } catch (err) {
        area.append(h("p", { class: "bad-text" }, `Waiting for the scan failed: ${err.message}`));
      }
    };
    show.addEventListener("click", () => start(false));
    relink.addEventListener("click", () => start(true));
    return h("div", null, h("div", { class: "row" }, show, relink), area);
  }

  function channelCard(id, status) {
    const label = (last && last.channelLabels && last.channelLabels[id]) || LABELS[id] || id;
    const configured = status && (status.configured || status.linked || status.running);
    const badge = h("span", { class: `badge ${status && status.running ? "badge-good" : configured ? "badge-warn" : ""}` },
      status && status.running ? "running" : configured ? "configured" : "not set up");
    const logoutBtn = configured ? h("button", { class: "btn btn-small btn-danger", type: "button", onclick: () => logout(id) }, "Log out") : null;
    const accounts = last && last.channelAccounts && last.channelAccounts[id];
    return card(label, null, [badge, logoutBtn],
      statusRows(status),
      Array.isArray(accounts) && accounts.length ? h("details", null, h("summary", null, `${accounts.length} account(s)`), jsonBlock(accounts)) : null,
      TOKEN_KEYS[id] ? tokenForm(id) : null,
      id === "whatsapp" ? waLogin : null);
  }

  // Built once so a status refresh does not wipe a QR code that is being scanned.
  const waLogin = whatsappLogin();

  function render() {
    const channels = (last && last.channels) || {};
    const order = [...new Set([...KNOWN, ...((last && last.channelOrder) || []), ...Object.keys(channels)])];
    replace(grid, order.map((id) => channelCard(id, channels[id])));
    replace(raw, last ? jsonBlock(last) : h("p", { class: "empty" }, ctx.gw.connected ? "No answer from channels.status." : "Not connected."));
  }

  async function load(withProbe) {
    last = await ctx.quiet("channels.status", { probe: Boolean(withProbe), timeoutMs: 8000 });
    render();
  }

  refresh.addEventListener("click", () => load(false));
  probe.addEventListener("click", () => load(true));
  ctx.on("config.changed", () => setTimeout(() => load(false), 1000));
  ctx.onConnected(() => load(false));
  render();
}
