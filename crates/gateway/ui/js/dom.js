// Building DOM nodes without HTML strings.
//
// Everything the gateway sends is untrusted text. Views build nodes with `h()`, which only ever
// sets text through text nodes and attributes through setAttribute, so no string is parsed as
// HTML anywhere in the UI.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * h("button", {class: "btn", onclick: fn, disabled: true}, "Save")
 * Props: `class`, `text`, `on<event>` handlers, `dataset` (object), `style` (object),
 * `value`/`checked`/`disabled`/`hidden`/`selected` (as properties), anything else as an attribute.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

function applyProps(el, props) {
  if (!props) return;
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style") Object.assign(el.style, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (["value", "checked", "disabled", "hidden", "selected", "open"].includes(key)) {
      el[key] = value;
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces every child of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A small icon from a static path list (24x24 viewBox, stroked). */
export function icon(paths, label) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", label ? "false" : "true");
  if (label) svg.setAttribute("aria-label", label);
  for (const d of paths) {
    const p = document.createElementNS(SVG_NS, "path");
    p.setAttribute("d", d);
    svg.append(p);
  }
  return svg;
}

/** A `<select>` from `[value, label]` pairs. */
export function select(options, current, props) {
  return h(
    "select",
    props,
    options.map(([value, label]) =>
      h("option", { value, selected: value === current }, label ?? value),
    ),
  );
}

/** A labelled form field: <label>text<input/></label>. */
export function field(label, control, hint) {
  return h("label", { class: "field" }, h("span", { class: "field-label" }, label), control,
    hint ? h("span", { class: "field-hint" }, hint) : null);
}

/** A card with a title, an optional subtitle and optional header actions. */
export function card(title, subtitle, actions, ...body) {
  return h(
    "section",
    { class: "card" },
    h(
      "header",
      { class: "card-head" },
      h("div", null, h("h2", { class: "card-title" }, title),
        subtitle ? h("p", { class: "card-sub" }, subtitle) : null),
      actions ? h("div", { class: "card-actions" }, actions) : null,
    ),
    body,
  );
}

/** Pretty-printed JSON in a <pre>. */
export function jsonBlock(value) {
  let text;
  try {
    text = JSON.stringify(value, null, 2);
  } catch {
    text = String(value);
  }
  return h("pre", { class: "json" }, text ?? "null");
}

/** A command line shown with a copy button. */
export function commandLine(cmd) {
  const btn = h("button", { class: "btn btn-small", type: "button" }, "Copy");
  btn.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(cmd);
      btn.textContent = "Copied";
    } catch {
      btn.textContent = "Select and copy";
    }
    setTimeout(() => (btn.textContent = "Copy"), 1500);
  });
  return h("div", { class: "cmd" }, h("code", null, cmd), btn);
}
