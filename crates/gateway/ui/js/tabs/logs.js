// Logs tab: tails the gateway's log file with `logs.tail` every 2 s, with a text filter and
// an auto-follow toggle. Lines are JSONL; a line that is not JSON is shown as it is.

import { h, replace } from "../dom.js";

export default {
  title: "Logs",
  subtitle: "The gateway's log file, live.",
  mount,
};

const POLL_MS = 2000;
/** Lines kept on screen; older ones are dropped so a long tail stays responsive. */
const MAX_LINES = 5000;

function parseLine(raw) {
  let obj = null;
  try {
    obj = JSON.parse(raw);
  } catch {
    return { time: "", level: "", target: "", message: raw };
  }
  if (!obj || typeof obj !== "object") return { time: "", level: "", target: "", message: raw };
  const meta = obj._meta || {};
  const fields = obj.fields || {};
  const time = obj.time || obj.timestamp || obj.ts || meta.date || "";
  const level = String(obj.level || meta.logLevelName || "").toLowerCase();
  const target = obj.subsystem || obj.target || obj.module || meta.name || "";
  const message = obj.message || obj.msg || fields.message || obj["0"] || raw;
  return { time: typeof time === "number" ? new Date(time).toISOString() : String(time), level, target: String(target), message: String(message) };
}

function mount(root, ctx) {
  const filter = h("input", { type: "search", placeholder: "Filter (text or level)", "aria-label": "Filter log lines" });
  const follow = h("input", { type: "checkbox", checked: true });
  const clear = h("button", { class: "btn", type: "button" }, "Clear view");
  const fileLabel = h("span", { class: "muted small mono" });
  const list = h("div", { class: "log-list", role: "log", "aria-label": "Log lines", tabindex: "0" });
  replace(root,
    h("div", { class: "row" }, filter, h("label", { class: "row" }, follow, "Follow"), clear, h("span", { class: "spacer" }), fileLabel),
    list);

  let cursor = undefined;
  let busy = false;
  let gone = false;

  function matches(entry, needle) {
    if (!needle) return true;
    return `${entry.level} ${entry.target} ${entry.message}`.toLowerCase().includes(needle);
  }

  function lineEl(entry) {
    const el = h("div", { class: `log-line lvl-${entry.level || "none"}` },
      h("span", { class: "log-time" }, entry.time.replace("T", " ").slice(0, 23)),
      h("span", { class: "log-level" }, entry.level || ""),
      h("span", { class: "log-target" }, entry.target),
      h("span", { class: "log-msg" }, entry.message));
    el._entry = entry;
    return el;
  }

  function applyFilter() {
    const needle = filter.value.trim().toLowerCase();
    for (const el of list.children) if (el._entry) el.hidden = !matches(el._entry, needle);
  }

  function append(lines) {
    const needle = filter.value.trim().toLowerCase();
    const frag = document.createDocumentFragment();
    for (const raw of lines) {
      const el = lineEl(parseLine(raw));
      el.hidden = !matches(el._entry, needle);
      frag.append(el);
    }
    list.append(frag);
    while (list.childElementCount > MAX_LINES) list.firstElementChild.remove();
    if (follow.checked) list.scrollTop = list.scrollHeight;
  }

  async function poll() {
    if (busy || gone || !ctx.gw.connected) return;
    busy = true;
    try {
      const params = { limit: 500, maxBytes: 250000 };
      if (cursor !== undefined) params.cursor = cursor;
      const res = await ctx.gw.request("logs.tail", params);
      if (gone || !res) return;
      if (res.reset) list.replaceChildren();
      if (res.file) fileLabel.textContent = `File: ${res.file}`;
      if (res.cursor !== undefined) cursor = res.cursor;
      if (Array.isArray(res.lines) && res.lines.length) append(res.lines);
      if (!list.childElementCount) list.append(h("p", { class: "empty" }, "The log is empty."));
      else {
        const empty = list.querySelector(".empty");
        if (empty) empty.remove();
      }
    } catch (err) {
      if (!list.childElementCount) list.append(h("p", { class: "empty" }, `Logs unavailable: ${err.message}`));
    } finally {
      busy = false;
    }
  }

  filter.addEventListener("input", applyFilter);
  clear.addEventListener("click", () => list.replaceChildren());
  follow.addEventListener("change", () => follow.checked && (list.scrollTop = list.scrollHeight));
  ctx.onConnected(() => {
    cursor = undefined;
    list.replaceChildren();
    poll();
  });
  ctx.every(POLL_MS, poll);
  ctx.cleanup(() => {
    gone = true;
  });
}
