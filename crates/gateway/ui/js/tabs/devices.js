// Devices tab: pairing requests waiting for approval and the devices already paired.
// Refreshes live on `device.pair.requested` / `device.pair.resolved`.

import { confirmDialog } from "../dialog.js";
import { card, h, replace } from "../dom.js";
import { ago, shortId } from "../format.js";

export default {
  title: "Devices",
  subtitle: "Browsers, apps and nodes allowed to use this gateway.",
  mount,
};

function scopesText(list) {
  return Array.isArray(list) && list.length ? list.join(", ") : "—";
}

function mount(root, ctx) {
  const pendingBody = h("div", { class: "table-wrap" });
  const pairedBody = h("div", { class: "table-wrap" });
  const refresh = h("button", { class: "btn", type: "button" }, "Refresh");
  replace(root,
    card("Waiting for approval", "New devices that presented a valid token. Approve only the ones you recognise.", refresh, pendingBody),
    card("Paired devices", "Each paired device signs in with its own key and device token.", null, pairedBody));

  async function act(method, params, done) {
    try {
      await ctx.gw.request(method, params);
      ctx.toast(done, "good");
    } catch (err) {
      ctx.toast(`${method} failed: ${err.message}`, "error");
    }
    load();
  }

  function who(d) {
    return [d.displayName, d.clientId, d.clientMode].filter(Boolean).join(" · ") || "unknown client";
  }

  function render(data) {
    const me = ctx.identity() && ctx.identity().deviceId;
    const pending = (data && data.pending) || [];
    const paired = (data && data.paired) || [];
    if (!data) {
      replace(pendingBody, h("p", { class: "empty" }, ctx.gw.connected ? "The pairing list is unavailable." : "Not connected."));
      replace(pairedBody);
      return;
    }
    replace(pendingBody, pending.length ? h("table", null,
      h("thead", null, h("tr", null, ["Request", "Device", "Client", "Role / scopes", "From", "Asked", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", null, pending.map((r) => h("tr", null,
        h("td", { class: "mono" }, r.requestId),
        h("td", { class: "mono", title: r.deviceId }, shortId(r.deviceId), r.isRepair ? h("span", { class: "badge badge-warn" }, "repair") : null),
        h("td", null, who(r), r.platform ? h("div", { class: "muted small" }, r.platform) : null),
        h("td", null, r.role || "", h("div", { class: "muted small" }, scopesText(r.scopes))),
        h("td", null, r.remoteIp || ""),
        h("td", null, ago(r.ts)),
        h("td", { class: "actions" },
          h("button", { class: "btn btn-small btn-primary", type: "button",
            onclick: () => act("device.pair.approve", { requestId: r.requestId }, `Approved ${shortId(r.deviceId)}.`) }, "Approve"), " ",
          h("button", { class: "btn btn-small btn-danger", type: "button",
            onclick: () => act("device.pair.reject", { requestId: r.requestId }, "Request rejected.") }, "Reject"))))))
      : h("p", { class: "empty" }, "No pending requests."));

    replace(pairedBody, paired.length ? h("table", null,
      h("thead", null, h("tr", null, ["Device", "Client", "Roles / scopes", "Approved", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", null, paired.map((d) => {
        const remove = h("button", { class: "btn btn-small btn-danger", type: "button" }, "Remove");
        remove.addEventListener("click", async () => {
          const self = d.deviceId === me;
          const text = self
            ? "This is the browser you are using. It will be disconnected and must be paired again."
            : "The device loses access and must ask to pair again.";
          if (await confirmDialog(`Remove ${shortId(d.deviceId)}?`, text, { confirmLabel: "Remove", danger: true })) {
            act("device.pair.remove", { deviceId: d.deviceId }, "Device removed.");
          }
        });
        return h("tr", null,
          h("td", { class: "mono", title: d.deviceId }, shortId(d.deviceId), d.deviceId === me ? h("span", { class: "badge badge-good" }, "this browser") : null),
          h("td", null, who(d), d.platform ? h("div", { class: "muted small" }, d.platform) : null),
          h("td", null, (d.roles || [d.role]).filter(Boolean).join(", "), h("div", { class: "muted small" }, scopesText(d.scopes))),
          h("td", null, ago(d.approvedAtMs || d.createdAtMs)),
          h("td", { class: "actions" }, remove));
      })))
      : h("p", { class: "empty" }, "No paired devices."));
  }

  async function load() {
    const data = await ctx.quiet("device.pair.list", {});
    ctx.shared.pairing = data;
    render(data);
  }

  refresh.addEventListener("click", load);
  ctx.onShared((shared, patch) => {
    if ("pairing" in patch) render(shared.pairing);
  });
  ctx.onConnected(() => render(ctx.shared.pairing));
  ctx.onStatus((st) => st.state !== "connected" && render(null));
  render(ctx.gw.connected ? ctx.shared.pairing : null);
}
