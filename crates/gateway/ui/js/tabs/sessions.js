// Sessions tab: the gateway's session list with a preview of each, reset and delete.

import { confirmDialog } from "../dialog.js";
import { card, field, h, replace } from "../dom.js";
import { ago, contentText } from "../format.js";

export default {
  title: "Sessions",
  subtitle: "Conversations the gateway keeps, with their size and last activity.",
  mount,
};

/** Pulls a short preview text for `key` out of a sessions.preview answer (tolerant of shape). */
function previewFor(payload, key) {
  if (!payload) return "";
  const list = Array.isArray(payload) ? payload : payload.previews || payload.sessions || [];
  const entry = Array.isArray(list) ? list.find((p) => p && p.key === key) : payload[key];
  if (!entry) return "";
  const items = entry.items || entry.messages || [];
  const last = Array.isArray(items) && items.length ? items[items.length - 1] : null;
  if (last) {
    const text = typeof last.text === "string" ? last.text : contentText(last.content);
    return `${last.role ? `${last.role}: ` : ""}${text}`;
  }
  return typeof entry.text === "string" ? entry.text : "";
}

function tokens(s) {
  const used = s.totalTokens ?? s.inputTokens;
  if (typeof used !== "number") return "n/a";
  return s.contextTokens ? `${used} / ${s.contextTokens}` : String(used);
}

function mount(root, ctx) {
  const active = h("input", { type: "number", min: 0, value: 0, "aria-describedby": "active-hint" });
  const limit = h("input", { type: "number", min: 1, max: 1000, value: 120 });
  const global = h("input", { type: "checkbox", checked: true });
  const refresh = h("button", { class: "btn", type: "submit" }, "Refresh");
  const filters = h("form", { class: "row filters" },
    field("Active within (minutes, 0 = all)", active),
    field("Limit", limit),
    h("label", { class: "row" }, global, "Include global"),
    refresh);
  const body = h("div", { class: "table-wrap" });
  const meta = h("p", { class: "muted small" });
  replace(root, card("Sessions", null, null, filters, meta, body));

  let rows = [];
  let previews = null;

  async function act(method, key, verb) {
    try {
      await ctx.gw.request(method, { key });
      ctx.toast(`Session ${key} ${verb}.`, "good");
    } catch (err) {
      ctx.toast(`Could not ${method === "sessions.delete" ? "delete" : "reset"} ${key}: ${err.message}`, "error");
    }
    load();
    ctx.refreshSessions();
  }

  function render() {
    if (!rows.length) {
      replace(body, h("p", { class: "empty" }, ctx.gw.connected ? "No sessions match." : "Not connected."));
      return;
    }
    const table = h("table", null,
      h("thead", null, h("tr", null, ["Session", "Kind", "Updated", "Tokens", "Last message", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", null, rows.map((s) => {
        const reset = h("button", { class: "btn btn-small", type: "button" }, "Reset");
        const del = h("button", { class: "btn btn-small btn-danger", type: "button" }, "Delete");
        reset.addEventListener("click", async () => {
          if (await confirmDialog("Reset session?", `${s.key} starts over with an empty context. The old transcript is archived.`, { confirmLabel: "Reset" })) {
            act("sessions.reset", s.key, "reset");
          }
        });
        del.addEventListener("click", async () => {
          if (await confirmDialog("Delete session?", `${s.key} and its entry are removed from the session store. This cannot be undone.`, { confirmLabel: "Delete", danger: true })) {
            act("sessions.delete", s.key, "deleted");
          }
        });
        const link = h("a", { href: `${ctx.base}chat?${new URLSearchParams({ session: s.key })}`, "data-route": "chat", class: "mono" }, s.key);
        return h("tr", null,
          h("td", null, link, s.label ? h("div", { class: "muted small" }, s.label) : null),
          h("td", null, s.kind || s.chatType || ""),
          h("td", null, ago(s.updatedAt)),
          h("td", null, tokens(s)),
          h("td", { class: "preview" }, previewFor(previews, s.key) || h("span", { class: "muted" }, "—")),
          h("td", { class: "actions" }, reset, " ", del));
      })));
    replace(body, table);
  }

  async function load() {
    const params = { includeGlobal: global.checked, includeUnknown: false, limit: Number(limit.value) || 120 };
    if (Number(active.value) > 0) params.activeMinutes = Number(active.value);
    const res = await ctx.quiet("sessions.list", params);
    rows = res && Array.isArray(res.sessions) ? res.sessions : [];
    meta.textContent = res ? `${rows.length} session(s)${res.path ? ` · store ${res.path}` : ""}` : "";
    previews = null;
    render();
    if (rows.length) {
      previews = await ctx.quiet("sessions.preview", { keys: rows.map((s) => s.key), limit: 1, maxChars: 160 });
      render();
    }
  }

  filters.addEventListener("submit", (ev) => {
    ev.preventDefault();
    load();
  });
  ctx.onConnected(load);
  render();
}
