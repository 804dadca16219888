// Modal confirmation built on <dialog>: focus moves into it, Escape cancels, Enter confirms.

import { h } from "./dom.js";

/** Resolves to true when the person confirms. */
export function confirmDialog(title, text, { confirmLabel = "Confirm", danger = false } = {}) {
  return new Promise((resolve) => {
    const cancel = h("button", { class: "btn", type: "button", value: "cancel" }, "Cancel");
    const ok = h(
      "button",
      { class: danger ? "btn btn-danger" : "btn btn-primary", type: "submit", value: "ok" },
      confirmLabel,
    );
    const dlg = h(
      "dialog",
      { class: "dialog", "aria-labelledby": "dlg-title" },
      h(
        "form",
        { method: "dialog" },
        h("h2", { id: "dlg-title" }, title),
        h("p", { class: "dialog-text" }, text),
        h("div", { class: "dialog-actions" }, cancel, ok),
      ),
    );
    cancel.addEventListener("click", () => dlg.close("cancel"));
    dlg.addEventListener("close", () => {
      dlg.remove();
      resolve(dlg.returnValue === "ok");
    });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}
