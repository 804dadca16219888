// Config tab: the raw openclaw.json (JSON5) editor and a small form for the common keys.
//
// Writes are guarded by the file hash from `config.get` (`baseHash`): when someone else changed
// the file in between, the gateway refuses and the UI offers a reload instead of overwriting.
// A refused save writes nothing; the error is shown with its line:column.

import { card, field, h, replace, select } from "../dom.js";

export default {
  title: "Config",
  subtitle: "Edit ~/.openclaw/openclaw.json. Saves are checked before anything is written.",
  mount,
};

const FORM_KEYS = [
  { path: "gateway.bind", label: "Gateway bind", options: ["loopback", "lan", "tailnet", "auto", "custom"] },
  { path: "gateway.auth.mode", label: "Gateway auth mode", options: ["token", "password", "none"] },
  { path: "agents.defaults.model.primary", label: "Primary model (provider/model)" },
  { path: "agents.defaults.sandbox.mode", label: "Sandbox mode", options: ["off", "non-main", "all"] },
];

function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), obj);
}

function patchFor(path, value) {
  const keys = path.split(".");
  const root = {};
  let cur = root;
  keys.forEach((k, i) => {
    cur[k] = i === keys.length - 1 ? value : {};
    cur = cur[k];
  });
  return root;
}

function mergeDeep(a, b) {
  for (const [k, v] of Object.entries(b)) {
    if (v && typeof v === "object" && a[k] && typeof a[k] === "object") mergeDeep(a[k], v);
    else a[k] = v;
  }
  return a;
}

function isConflict(err) {
  const code = String((err.details && err.details.code) || err.code || "").toUpperCase();
  return code.includes("HASH") || code.includes("CONFLICT") || /base ?hash|changed since|modified since|stale/i.test(err.message);
}

/** Offset in `text` of 1-based line/column. */
function offsetOf(text, line, column) {
  const lines = text.split("\n");
  let off = 0;
  for (let i = 0; i < Math.min(line - 1, lines.length); i++) off += lines[i].length + 1;
  return off + Math.max(0, (column || 1) - 1);
}

function mount(root, ctx) {
  let snapshot = null;
  let dirty = false;

  const badge = h("span", { class: "badge" }, "…");
  const pathLabel = h("span", { class: "mono small muted" });
  const editor = h("textarea", { class: "config-editor", spellcheck: "false", "aria-label": "openclaw.json (JSON5)", rows: 24 });
  const cursor = h("span", { class: "muted small mono" }, "1:1");
  const state = h("span", { class: "muted small" }, "No changes");
  const reloadBtn = h("button", { class: "btn", type: "button" }, "Reload");
  const saveBtn = h("button", { class: "btn btn-primary", type: "button", disabled: true }, "Save");
  const errorBox = h("div", { role: "alert" });
  const issuesBox = h("div");
  const formBox = h("form", { class: "config-form" });

  replace(root,
    card("Common settings", "Changes go through config.patch; only the fields you change are sent.", null, formBox),
    card("openclaw.json", null, h("div", { class: "row" }, badge, state, reloadBtn, saveBtn),
      pathLabel, errorBox, issuesBox, editor, h("div", { class: "row" }, cursor, h("span", { class: "muted small" }, "JSON5: comments and trailing commas are fine."))));

  function showError(err, { conflict } = {}) {
    const d = err.details || {};
    const where = d.line ? `line ${d.line}${d.column ? `, column ${d.column}` : ""}` : "";
    const box = h("div", { class: "callout callout-error" },
      h("strong", null, conflict ? "The file changed since you loaded it. Nothing was written." : "Not saved. Nothing was written."),
      h("p", null, err.message),
      where || d.path ? h("p", { class: "mono" }, [where, d.path ? `at ${d.path}` : ""].filter(Boolean).join(" ")) : null,
      d.hint ? h("p", null, `Hint: ${d.hint}`) : null);
    const actions = h("div", { class: "row" });
    if (d.line) {
      actions.append(h("button", { class: "btn btn-small", type: "button", onclick: () => {
        const off = offsetOf(editor.value, d.line, d.column);
        editor.focus();
        editor.setSelectionRange(off, off + 1);
        const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 18;
        editor.scrollTop = Math.max(0, (d.line - 5) * lineHeight);
      } }, `Go to ${d.line}:${d.column || 1}`));
    }
    if (conflict) {
      actions.append(h("button", { class: "btn btn-small btn-primary", type: "button", onclick: () => load(true) }, "Reload (discard my edits)"));
    }
    if (actions.childNodes.length) box.append(actions);
    replace(errorBox, box);
  }

  function setDirty(v) {
    dirty = v;
    saveBtn.disabled = !v || !ctx.gw.connected;
    state.textContent = v ? "Unsaved changes" : "No changes";
  }

  function renderMeta() {
    if (!snapshot) {
      badge.textContent = ctx.gw.connected ? "unavailable" : "offline";
      badge.className = "badge";
      return;
    }
    badge.textContent = snapshot.valid === false ? "invalid" : "valid";
    badge.className = snapshot.valid === false ? "badge badge-bad" : "badge badge-good";
    pathLabel.textContent = `${snapshot.path || ""}${snapshot.exists === false ? " (does not exist yet)" : ""}`;
    const issues = [...(snapshot.issues || []), ...(snapshot.warnings || [])];
    replace(issuesBox, issues.length
      ? h("ul", { class: "issues" }, issues.map((i) => h("li", null, typeof i === "string" ? i : `${i.path ? `${i.path}: ` : ""}${i.message || JSON.stringify(i)}`)))
      : null);
  }

  function renderForm() {
    const values = (snapshot && (snapshot.parsed || snapshot.config)) || {};
    const controls = new Map();
    const fields = FORM_KEYS.map((k) => {
      const current = getPath(values, k.path);
      const text = current === undefined || current === null ? "" : String(current);
      const control = k.options
        ? select([["", "(default)"], ...k.options.map((o) => [o, o])], text)
        : h("input", { type: "text", value: text, placeholder: "(default)" });
      control.dataset.initial = text;
      controls.set(k.path, control);
      return field(k.label, control, k.path);
    });
    const apply = h("button", { class: "btn btn-primary", type: "submit", disabled: !snapshot }, "Apply");
    replace(formBox, h("div", { class: "grid-2" }, fields), h("div", { class: "row" }, apply));
    formBox.onsubmit = async (ev) => {
      ev.preventDefault();
      const patch = {};
      for (const [path, control] of controls) {
        if (control.value === control.dataset.initial) continue;
        mergeDeep(patch, patchFor(path, control.value === "" ? null : control.value));
      }
      if (!Object.keys(patch).length) {
        ctx.toast("Nothing changed.");
        return;
      }
      try {
        await ctx.gw.request("config.patch", { raw: JSON.stringify(patch), baseHash: snapshot && snapshot.hash });
        ctx.toast("Settings applied.", "good");
        replace(errorBox);
        load(true);
      } catch (err) {
        showError(err, { conflict: isConflict(err) });
      }
    };
  }

  async function load(force) {
    if (dirty && !force) return;
    const res = await ctx.quiet("config.get", {});
    snapshot = res;
    if (res) {
      editor.value = typeof res.raw === "string" ? res.raw : JSON.stringify(res.config || {}, null, 2);
      replace(errorBox);
      setDirty(false);
    }
    renderMeta();
    renderForm();
  }

  async function save() {
    try {
      await ctx.gw.request("config.set", { raw: editor.value, baseHash: snapshot && snapshot.hash });
      ctx.toast("Saved openclaw.json.", "good");
      setDirty(false);
      load(true);
    } catch (err) {
      showError(err, { conflict: isConflict(err) });
    }
  }

  function updateCursor() {
    const before = editor.value.slice(0, editor.selectionStart);
    const line = before.split("\n").length;
    cursor.textContent = `${line}:${before.length - before.lastIndexOf("\n")}`;
  }

  editor.addEventListener("input", () => setDirty(true));
  editor.addEventListener("keyup", updateCursor);
  editor.addEventListener("click", updateCursor);
  editor.addEventListener("keydown", (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "s") {
      ev.preventDefault();
      if (dirty) save();
    }
  });
  saveBtn.addEventListener("click", save);
  reloadBtn.addEventListener("click", () => load(true));
  ctx.on("config.changed", (p) => {
    if (snapshot && p && p.hash && p.hash === snapshot.hash) return;
    if (dirty) {
      replace(errorBox, h("div", { class: "callout callout-warn" }, "openclaw.json changed on disk while you were editing. ",
        h("button", { class: "btn btn-small", type: "button", onclick: () => load(true) }, "Reload")));
    } else load(true);
  });
  ctx.onConnected(() => load(false));
  renderMeta();
  renderForm();
}
