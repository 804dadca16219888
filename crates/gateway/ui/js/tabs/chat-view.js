// Drawing the chat thread: message bubbles, light text formatting and tool cards.
//
// Message shapes follow the transcript (`user` / `assistant` / `toolResult`, content parts
// `text`, `thinking`, `toolCall`). A tool card is the same element whether it was built from
// history or from live `agent` tool events, so a card can start as "running" and be completed
// in place.

import { h, jsonBlock } from "../dom.js";
import { clock, contentText } from "../format.js";

const PREVIEW_LINES = 8;

/** Plain text with ``` fences as code blocks and `inline code`; never parsed as HTML. */
export function renderText(text) {
  const out = [];
  const pieces = String(text || "").split(/```/);
  pieces.forEach((piece, i) => {
    if (i % 2 === 1) {
      const body = piece.replace(/^[\w+-]*\n/, "");
      out.push(h("pre", { class: "code" }, body.replace(/\n$/, "")));
      return;
    }
    if (!piece.trim()) return;
    const p = h("div", { class: "text" });
    piece.split(/(`[^`\n]+`)/).forEach((chunk) => {
      if (chunk.startsWith("`") && chunk.endsWith("`") && chunk.length > 2) {
        p.append(h("code", null, chunk.slice(1, -1)));
      } else if (chunk) {
        p.append(document.createTextNode(chunk));
      }
    });
    out.push(p);
  });
  return out;
}

export function avatarText(identity) {
  const avatar = identity && typeof identity.avatar === "string" ? identity.avatar.trim() : "";
  if (avatar && avatar.length <= 2) return avatar;
  const name = (identity && identity.name) || "Assistant";
  return name.slice(0, 1).toUpperCase();
}

/** One message row. `role` is user, assistant, tool or system. */
export function messageRow(role, { who, ts, avatar }, ...body) {
  const bubble = h("div", { class: `bubble bubble-${role}` }, body);
  return h(
    "article",
    { class: `msg msg-${role}` },
    h("div", { class: "avatar", "aria-hidden": "true" }, avatar || (role === "user" ? "U" : "·")),
    h("div", { class: "msg-body" }, bubble,
      h("div", { class: "msg-meta" }, who, ts ? ` · ${clock(ts)}` : "")),
  );
}

function argsSummary(name, args) {
  if (!args || typeof args !== "object") return typeof args === "string" ? args : "";
  for (const key of ["command", "cmd", "path", "file", "url", "query"]) {
    if (typeof args[key] === "string") return args[key];
  }
  const text = JSON.stringify(args);
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

function outputText(result) {
  if (result === undefined || result === null) return "";
  if (typeof result === "string") return result;
  if (Array.isArray(result)) return contentText(result);
  if (typeof result === "object") {
    if (result.content !== undefined) return contentText(result.content) || JSON.stringify(result.content, null, 2);
    if (typeof result.text === "string") return result.text;
    if (typeof result.output === "string") return result.output;
    return JSON.stringify(result, null, 2);
  }
  return String(result);
}

/**
 * A collapsible tool card. Returns {el, running(), update(partial), finish(result, isError)}.
 */
export function toolCard(name, args) {
  const status = h("span", { class: "badge" }, "running");
  const out = h("pre", { class: "tool-output", hidden: true });
  const more = h("button", { class: "btn btn-small", type: "button", hidden: true }, "Show all");
  let fullText = "";
  const showOutput = (text, expanded) => {
    fullText = text;
    const lines = text.split("\n");
    const long = lines.length > PREVIEW_LINES;
    out.textContent = long && !expanded ? `${lines.slice(0, PREVIEW_LINES).join("\n")}\n…` : text;
    out.hidden = !text;
    more.hidden = !long || expanded;
  };
  more.addEventListener("click", () => showOutput(fullText, true));
  const details = h(
    "details",
    { class: "tool-card", open: true },
    h(
      "summary",
      null,
      h("span", { class: "tool-name" }, name || "tool"),
      h("span", { class: "tool-args" }, argsSummary(name, args)),
      status,
    ),
    h("div", { class: "tool-body" },
      args && typeof args === "object" ? h("details", { class: "tool-args-full" }, h("summary", null, "Arguments"), jsonBlock(args)) : null,
      out, more),
  );
  details.classList.add("running");
  return {
    el: details,
    update(partial) {
      const text = outputText(partial);
      if (text) showOutput(text, false);
    },
    finish(result, isError) {
      details.classList.remove("running");
      status.textContent = isError ? "failed" : "done";
      status.className = isError ? "badge badge-bad" : "badge badge-good";
      const text = outputText(result);
      if (text) showOutput(text, false);
    },
    setArgs(newArgs) {
      details.querySelector(".tool-args").textContent = argsSummary(name, newArgs);
    },
  };
}

/** Builds the whole thread from `chat.history` messages. */
export function renderHistory(messages, identity) {
  const rows = [];
  const cards = new Map();
  const who = (identity && identity.name) || "Assistant";
  const avatar = avatarText(identity);
  for (const m of messages || []) {
    if (!m || typeof m !== "object") continue;
    if (m.role === "user") {
      const text = contentText(m.content);
      if (text) rows.push(messageRow("user", { who: "You", ts: m.timestamp, avatar: "U" }, renderText(text)));
    } else if (m.role === "assistant") {
      const body = [];
      for (const part of Array.isArray(m.content) ? m.content : [{ type: "text", text: String(m.content || "") }]) {
        if (!part) continue;
        if (part.type === "text" && part.text) body.push(...renderText(part.text));
        else if (part.type === "thinking" && part.thinking) {
          body.push(h("details", { class: "thinking" }, h("summary", null, "Thinking"), h("div", { class: "text" }, part.thinking)));
        } else if (part.type === "toolCall") {
          const card = toolCard(part.name, part.arguments);
          cards.set(part.id, card);
          body.push(card.el);
        }
      }
      if (m.errorMessage) body.push(h("p", { class: "bad-text" }, m.errorMessage));
      if (body.length) rows.push(messageRow("assistant", { who, ts: m.timestamp, avatar }, body));
    } else if (m.role === "toolResult") {
      const card = cards.get(m.toolCallId);
      if (card) card.finish(m, Boolean(m.isError));
      else {
        const orphan = toolCard(m.toolName, null);
        orphan.finish(m, Boolean(m.isError));
        rows.push(messageRow("tool", { who: "tool", ts: m.timestamp, avatar: "⚙" }, orphan.el));
      }
    }
  }
  // Cards from history are finished: collapse long threads to keep them readable.
  for (const card of cards.values()) {
    if (card.el.classList.contains("running")) card.finish(null, false);
    card.el.open = false;
  }
  return rows;
}

export function typingRow(identity) {
  return messageRow("assistant", { who: (identity && identity.name) || "Assistant", avatar: avatarText(identity) },
    h("span", { class: "typing", "aria-label": "Assistant is working" }, h("i"), h("i"), h("i")));
}
