// In-page helpers of the `browser` tool. Evaluated in an isolated world (the page's scripts
// cannot see or change them; the DOM is shared), where they keep the refs of the last snapshot.
// The expression evaluates to a factory; the Rust side installs it once per world as
// `globalThis.__openclaw` and calls its methods with JSON arguments.
(() => {
  const INTERACTIVE_ROLES = new Set([
    "button", "link", "checkbox", "radio", "switch", "tab", "menuitem", "menuitemcheckbox",
    "menuitemradio", "option", "textbox", "searchbox", "combobox", "listbox", "slider",
    "spinbutton", "treeitem", "clickable", "focusable",
  ]);
  const SKIP = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "HEAD", "META", "LINK", "SVG"]);
  const BLOCK = new Set([
    "P", "DIV", "SECTION", "ARTICLE", "MAIN", "HEADER", "FOOTER", "NAV", "ASIDE", "LI", "UL",
    "OL", "TABLE", "TR", "TD", "TH", "FORM", "FIELDSET", "BLOCKQUOTE", "PRE", "BR", "HR", "DL",
    "DT", "DD", "FIGURE", "FIGCAPTION", "LABEL", "BODY",
  ]);
  const MAX_REFS = 2000;
  const NESTED = "a[href], button, input, select, textarea, [contenteditable], [role], " +
    "[tabindex]:not([tabindex='-1'])";
  let refs = new Map();

  const squash = (s) => (s || "").replace(/\s+/g, " ").trim();
  const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + "…" : s);

  function role(el) {
    const explicit = (el.getAttribute("role") || "").trim().split(/\s+/)[0];
    if (explicit) return explicit;
    const tag = el.tagName;
    if (tag === "A" && el.hasAttribute("href")) return "link";
    if (tag === "BUTTON" || tag === "SUMMARY") return "button";
    if (tag === "SELECT") return el.multiple ? "listbox" : "combobox";
    if (tag === "TEXTAREA") return "textbox";
    if (tag === "INPUT") {
      const t = (el.getAttribute("type") || "text").toLowerCase();
      if (["button", "submit", "reset", "image"].includes(t)) return "button";
      if (t === "checkbox") return "checkbox";
      if (t === "radio") return "radio";
      if (t === "range") return "slider";
      if (t === "number") return "spinbutton";
      if (t === "search") return "searchbox";
      if (t === "hidden") return "";
      return "textbox";
    }
    if (/^H[1-6]$/.test(tag)) return "heading";
    if (tag === "IMG") return "img";
    if (el.isContentEditable && !el.parentElement?.isContentEditable) return "textbox";
    if (el.hasAttribute("onclick")) return "clickable";
    const tabindex = el.getAttribute("tabindex");
    if (tabindex !== null && tabindex !== "-1") return "focusable";
    return "";
  }

  function labelText(el) {
    if (el.id) {
      const l = el.ownerDocument.querySelector(`label[for="${CSS.escape(el.id)}"]`);
      if (l) return squash(l.innerText);
    }
    const wrap = el.closest("label");
    return wrap ? squash(wrap.innerText) : "";
  }

  function name(el, r) {
    const aria = el.getAttribute("aria-label");
    if (aria && aria.trim()) return squash(aria);
    const by = el.getAttribute("aria-labelledby");
    if (by) {
      const t = by.split(/\s+/).map((id) => el.ownerDocument.getElementById(id)?.innerText || "");
      if (squash(t.join(" "))) return squash(t.join(" "));
    }
    const tag = el.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") {
      const t = (el.getAttribute("type") || "").toLowerCase();
      if (["button", "submit", "reset"].includes(t)) return squash(el.value) || t;
      return labelText(el) || squash(el.getAttribute("placeholder")) ||
        squash(el.getAttribute("title")) || squash(el.getAttribute("name"));
    }
    if (tag === "IMG") return squash(el.getAttribute("alt")) || squash(el.getAttribute("title"));
    const text = squash(el.innerText);
    if (text) return text;
    const img = el.querySelector("img[alt]");
    return squash(img?.getAttribute("alt")) || squash(el.getAttribute("title"));
  }

  function visible(el) {
    if (el.getAttribute("aria-hidden") === "true" || el.hidden) return false;
    return typeof el.checkVisibility === "function"
      ? el.checkVisibility({ visibilityProperty: true })
      : el.getClientRects().length > 0;
  }

  function describe(el, r, ref) {
    let line = `${r} ${JSON.stringify(clip(name(el, r), 120))}`;
    const attrs = [];
    if (r === "heading") {
      const level = /^H[1-6]$/.test(el.tagName) ? el.tagName[1] : el.getAttribute("aria-level");
      if (level) attrs.push(`level=${level}`);
    }
    if (ref) attrs.push(`ref=${ref}`);
    if (el.disabled || el.getAttribute("aria-disabled") === "true") attrs.push("disabled");
    if ((r === "checkbox" || r === "radio" || r === "switch") &&
        (el.checked || el.getAttribute("aria-checked") === "true")) attrs.push("checked");
    if (attrs.length) line += ` [${attrs.join(", ")}]`;
    if (el.tagName === "SELECT") {
      const opts = [...el.options];
      const chosen = opts.filter((o) => o.selected).map((o) => squash(o.label));
      line += `: ${JSON.stringify(chosen.join(", "))} options=${JSON.stringify(opts.slice(0, 30).map((o) => squash(o.label)))}`;
    } else if (r === "textbox" || r === "searchbox" || r === "spinbutton" || r === "slider") {
      const v = "value" in el && typeof el.value === "string" ? el.value : squash(el.innerText);
      if (el.type !== "password" && v) line += `: ${JSON.stringify(clip(v, 200))}`;
    } else if (r === "link") {
      const href = el.getAttribute("href") || "";
      if (href && !href.startsWith("javascript:")) line += ` -> ${clip(href, 120)}`;
    }
    return line;
  }

  function snapshot(opts) {
    refs = new Map();
    const lines = [];
    let text = "";
    const flush = () => {
      const t = squash(text);
      if (t && !opts.interactive) lines.push(`text: ${clip(t, 400)}`);
      text = "";
    };

    function walk(node) {
      if (node.nodeType === Node.TEXT_NODE) {
        // A label's text is already the name of the control it labels.
        const parent = node.parentElement;
        if (!(parent && parent.tagName === "LABEL" && parent.control)) text += " " + node.data;
        return;
      }
      if (node.nodeType !== Node.ELEMENT_NODE) return;
      const el = node;
      if (SKIP.has(el.tagName.toUpperCase()) || !visible(el)) return;
      if (el.tagName === "IFRAME") {
        flush();
        lines.push(`iframe ${JSON.stringify(el.getAttribute("title") || el.src || "")} (not traversed)`);
        return;
      }
      const r = role(el);
      const isInteractive = INTERACTIVE_ROLES.has(r);
      if (isInteractive || r === "heading" || r === "img") {
        flush();
        let ref = null;
        if (isInteractive && refs.size < MAX_REFS) {
          ref = `e${refs.size + 1}`;
          refs.set(ref, el);
        }
        if ((ref || !opts.interactive) && (r !== "img" || name(el, r))) {
          lines.push(describe(el, r, ref));
        }
        // A control's text is its name, so it is not repeated; a control that holds other
        // controls (a tab list, a focusable region) is walked for them.
        if (!isInteractive || !el.querySelector(NESTED)) return;
      }
      const block = BLOCK.has(el.tagName);
      if (block) flush();
      for (const child of el.shadowRoot ? el.shadowRoot.childNodes : el.childNodes) walk(child);
      if (block) flush();
    }

    const root = opts.selector ? document.querySelector(opts.selector) : document.body;
    if (!root) return { error: `no element matches selector ${JSON.stringify(opts.selector)}` };
    walk(root);
    flush();
    let out = lines.join("\n");
    let truncated = false;
    if (opts.maxChars && out.length > opts.maxChars) {
      out = out.slice(0, opts.maxChars);
      truncated = true;
    }
    return { title: document.title, url: location.href, snapshot: out, refs: refs.size, truncated };
  }

  function element(ref) {
    const el = refs.get(ref);
    if (!el) return { error: "unknown" };
    if (!el.isConnected) return { error: "detached" };
    return { el };
  }

  function locate(ref) {
    const { el, error } = element(ref);
    if (error) return { error };
    el.scrollIntoView({ block: "center", inline: "center", behavior: "instant" });
    const b = el.getBoundingClientRect();
    return {
      x: b.left + b.width / 2, y: b.top + b.height / 2, left: b.left, top: b.top,
      width: b.width, height: b.height, scrollX: window.scrollX, scrollY: window.scrollY,
      role: role(el), name: clip(name(el, role(el)), 80),
    };
  }

  function focusForTyping(ref) {
    const { el, error } = element(ref);
    if (error) return { error };
    const r = role(el);
    const editable = el.tagName === "TEXTAREA" || el.isContentEditable ||
      (el.tagName === "INPUT" && ["textbox", "searchbox", "spinbutton"].includes(r));
    if (!editable) return { error: "not-editable", role: r };
    el.scrollIntoView({ block: "center", behavior: "instant" });
    el.focus();
    if (el.isContentEditable) {
      const range = document.createRange();
      range.selectNodeContents(el);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    } else if (typeof el.select === "function") {
      el.select();
    }
    return { ok: true };
  }

  function focus(ref) {
    const { el, error } = element(ref);
    if (error) return { error };
    el.focus();
    return { ok: true };
  }

  function select(ref, values) {
    const { el, error } = element(ref);
    if (error) return { error };
    if (el.tagName !== "SELECT") return { error: "not-select", role: role(el) };
    const wanted = values.map((v) => squash(v));
    const opts = [...el.options];
    const matched = opts.filter((o) => wanted.includes(o.value) || wanted.includes(squash(o.label)));
    if (!matched.length || (!el.multiple && matched.length > 1 && wanted.length > 1)) {
      return { error: "no-option", options: opts.map((o) => squash(o.label)) };
    }
    for (const o of opts) o.selected = el.multiple ? matched.includes(o) : o === matched[0];
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
    return { ok: true, selected: opts.filter((o) => o.selected).map((o) => o.value) };
  }

  function click(ref) {
    const { el, error } = element(ref);
    if (error) return { error };
    el.click();
    return { ok: true };
  }

  return { snapshot, locate, focusForTyping, focus, select, click };
})()
