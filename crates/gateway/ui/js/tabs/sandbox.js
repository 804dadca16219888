// Sandbox tab: the agent sandbox containers, recreating them, and why a session is (or is not)
// sandboxed. Uses this gateway's own methods `sandbox.list`, `sandbox.recreate` and
// `sandbox.explain`.

import { confirmDialog } from "../dialog.js";
import { card, field, h, jsonBlock, replace } from "../dom.js";
import { ago } from "../format.js";

export default {
  title: "Sandbox",
  subtitle: "Containers that run the agent's tools, and the rules that pick them.",
  mount,
};

function rowsOf(res) {
  if (Array.isArray(res)) return res;
  if (!res || typeof res !== "object") return [];
  for (const key of ["containers", "items", "sandboxes", "entries"]) {
    if (Array.isArray(res[key])) return res[key];
  }
  return [];
}

function stateBadge(c) {
  const running = c.running ?? (typeof c.state === "string" ? c.state === "running" : undefined);
  const stale = c.stale || c.specChanged || c.drift;
  if (stale) return h("span", { class: "badge badge-warn" }, "needs recreate");
  if (running === true) return h("span", { class: "badge badge-good" }, "running");
  if (running === false) return h("span", { class: "badge" }, c.state || "stopped");
  return h("span", { class: "badge" }, c.state || "unknown");
}

function explainView(res) {
  if (!res || typeof res !== "object") return jsonBlock(res);
  const dl = h("dl", { class: "kv" });
  for (const [k, v] of Object.entries(res)) {
    dl.append(h("dt", null, k), h("dd", { class: typeof v === "object" && v !== null ? "" : "mono" },
      v !== null && typeof v === "object" ? jsonBlock(v) : String(v)));
  }
  return dl;
}

function mount(root, ctx) {
  const listBody = h("div", { class: "table-wrap" });
  const refresh = h("button", { class: "btn", type: "button" }, "Refresh");
  const recreateAll = h("button", { class: "btn btn-danger", type: "button" }, "Recreate all");
  const keyInput = h("input", { type: "text", value: ctx.sessionKey(), class: "mono" });
  const explainBtn = h("button", { class: "btn btn-primary", type: "submit" }, "Explain");
  const explainForm = h("form", { class: "row" }, field("Session key", keyInput), explainBtn);
  const explainBody = h("div");

  replace(root,
    card("Containers", "One container per sandbox scope; the gateway recreates them when the settings change.", [refresh, recreateAll], listBody),
    card("Why is this session sandboxed?", "Shows the sandbox mode, scope, image, mounts and tool policy that apply to a session.", null, explainForm, explainBody));

  async function recreate(params, what) {
    if (!(await confirmDialog(`Recreate ${what}?`, "Running tools in it are stopped. The container is removed and made again on next use; the workspace on the host is kept.", { confirmLabel: "Recreate", danger: true }))) return;
    try {
      const res = await ctx.gw.request("sandbox.recreate", params, 120000);
      const n = res && (res.removed ?? res.count);
      ctx.toast(`Recreated ${what}${typeof n === "number" ? ` (${n} container(s))` : ""}.`, "good");
    } catch (err) {
      ctx.toast(`Recreate failed: ${err.message}`, "error");
    }
    load();
  }

  function render(res, error) {
    if (error) {
      replace(listBody, h("p", { class: "empty" }, `Sandbox list unavailable: ${error.message}`));
      return;
    }
    const rows = rowsOf(res);
    if (!rows.length) {
      replace(listBody, h("p", { class: "empty" }, "No sandbox containers. They are made when a sandboxed session first runs a tool."));
      return;
    }
    replace(listBody, h("table", null,
      h("thead", null, h("tr", null, ["Container", "Scope", "Image", "State", "Last used", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", null, rows.map((c) => {
        const scope = c.sessionKey ? `session ${c.sessionKey}` : c.agentId ? `agent ${c.agentId}` : c.scope || "shared";
        const params = c.sessionKey ? { session: c.sessionKey } : c.agentId ? { agent: c.agentId } : { all: true };
        const btn = h("button", { class: "btn btn-small", type: "button", onclick: () => recreate(params, scope) }, "Recreate");
        return h("tr", null,
          h("td", { class: "mono" }, c.containerName || c.name || c.id || ""),
          h("td", null, scope),
          h("td", { class: "mono" }, c.image || ""),
          h("td", null, stateBadge(c)),
          h("td", null, ago(c.lastUsedAtMs || c.lastUsedAt || c.createdAtMs)),
          h("td", { class: "actions" }, btn));
      }))));
  }

  async function load() {
    try {
      render(await ctx.gw.request("sandbox.list", {}));
    } catch (err) {
      render(null, err);
    }
  }

  explainForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const sessionKey = keyInput.value.trim();
    if (!sessionKey) return;
    replace(explainBody, h("p", { class: "muted" }, "Asking the gateway…"));
    try {
      replace(explainBody, explainView(await ctx.gw.request("sandbox.explain", { sessionKey })));
    } catch (err) {
      replace(explainBody, h("p", { class: "bad-text" }, err.message));
    }
  });
  refresh.addEventListener("click", load);
  recreateAll.addEventListener("click", () => recreate({ all: true }, "all sandbox containers"));
  ctx.onConnected(load);
  replace(listBody, h("p", { class: "empty" }, "Not connected."));
}
