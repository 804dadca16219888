// Chat tab: one session's thread, the composer, live streaming and tool cards.
//
// Text streams from `chat` events (delta → final/aborted/error). Tool cards stream from `agent`
// events on the `tool` stream, which the gateway only sends because the UI connects with the
// `tool-events` capability. After a run ends the thread is reloaded from `chat.history`, which
// is the source of truth.

import { h, replace } from "../dom.js";
import { contentText } from "../format.js";
import { randomId } from "../gateway.js";
import { getSettings, updateSettings } from "../store.js";
import { avatarText, messageRow, renderHistory, renderText, toolCard, typingRow } from "./chat-view.js";

export default {
  title: "Chat",
  subtitle: "Talk to the agent directly and watch its tools run.",
  mount,
};

function mount(root, ctx) {
  let sessionKey = ctx.sessionKey();
  let runId = null;
  let stream = null; // {row, body, text, sealed}
  let typing = null;
  const liveTools = new Map();

  const sessionSelect = h("select", { "aria-label": "Session", class: "session-select" });
  const refreshBtn = h("button", { class: "btn", type: "button", title: "Reload the thread" }, "Refresh");
  const thread = h("div", { class: "thread", role: "log", "aria-live": "polite", "aria-label": "Messages" });
  const input = h("textarea", {
    class: "composer-input",
    rows: 3,
    placeholder: "Message (Enter to send, Shift+Enter for a new line)",
    "aria-label": "Message",
  });
  const sendBtn = h("button", { class: "btn btn-primary", type: "submit" }, "Send");
  const stopBtn = h("button", { class: "btn btn-danger", type: "button", hidden: true }, "Stop");
  const newBtn = h("button", { class: "btn", type: "button", title: "Start a fresh session (/new)" }, "New session");
  const status = h("span", { class: "muted small composer-status", role: "status" });
  const form = h("form", { class: "composer" }, input, h("div", { class: "composer-actions" }, status, newBtn, stopBtn, sendBtn));

  replace(
    root,
    h("div", { class: "chat-head" }, h("label", { class: "row" }, h("span", { class: "muted" }, "Session"), sessionSelect), refreshBtn),
    thread,
    form,
  );

  const identity = () => ctx.shared.agentIdentity;
  const nearBottom = () => thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
  const scrollDown = (force) => {
    if (force || nearBottom()) thread.scrollTop = thread.scrollHeight;
  };

  function setRunning(id) {
    runId = id;
    stopBtn.hidden = !id;
    sendBtn.textContent = id ? "Queue" : "Send";
    status.textContent = id ? "Working…" : "";
  }

  function fillSessions() {
    const list = ctx.shared.sessions && Array.isArray(ctx.shared.sessions.sessions) ? ctx.shared.sessions.sessions : [];
    // "main" and "agent:main:main" name the same session: show the gateway's spelling once.
    const alias = list.find((s) => s && s.key && s.key !== sessionKey && ctx.sameSession(sessionKey, s.key));
    if (alias) sessionKey = alias.key;
    const keys = new Set([sessionKey]);
    for (const s of list) if (s && s.key) keys.add(s.key);
    const options = [...keys].map((k) => {
      const row = list.find((s) => s.key === k);
      return [k, row && (row.label || row.displayName) ? `${row.label || row.displayName} (${k})` : k];
    });
    replace(sessionSelect, options.map(([v, label]) => h("option", { value: v }, label)));
    sessionSelect.value = sessionKey;
  }

  function clearLive() {
    stream = null;
    if (typing) typing.remove();
    typing = null;
    liveTools.clear();
  }

  async function loadHistory(useShared) {
    let payload = null;
    const pre = ctx.shared.history;
    if (useShared && pre && pre.sessionKey === sessionKey && pre.promise) {
      ctx.shared.history = null;
      payload = await pre.promise;
    }
    if (!payload) payload = await ctx.quiet("chat.history", { sessionKey, limit: 200 });
    if (!payload) {
      if (!ctx.gw.connected) return;
      replace(thread, h("p", { class: "empty" }, "The thread could not be loaded."));
      return;
    }
    clearLive();
    const rows = renderHistory(payload.messages, identity());
    replace(thread, rows.length ? rows : h("p", { class: "empty" }, "No messages yet. Say hello below."));
    const inFlight = payload.inFlightRun && (payload.inFlightRun.runId || payload.inFlightRun);
    if (typeof inFlight === "string") setRunning(inFlight);
    scrollDown(true);
  }

  function ensureStream() {
    if (typing) {
      typing.remove();
      typing = null;
    }
    if (stream && !stream.sealed) return stream;
    const body = h("div", { class: "stream-text" });
    const row = messageRow("assistant", { who: (identity() && identity().name) || "Assistant", ts: Date.now(), avatar: avatarText(identity()) }, body);
    row.classList.add("streaming");
    thread.append(row);
    const prefix = stream ? stream.text : "";
    stream = { row, body, text: prefix, prefix, sealed: false };
    return stream;
  }

  function onChat(p) {
    if (!p || !(ctx.sameSession(sessionKey, p.sessionKey) || (runId && p.runId === runId))) return;
    if (p.state === "delta") {
      if (!runId && p.runId) setRunning(p.runId);
      const s = ensureStream();
      const full = p.message ? contentText(p.message.content) : null;
      s.text = typeof full === "string" && full ? full : s.text + (p.deltaText || "");
      const shown = s.prefix && s.text.startsWith(s.prefix) ? s.text.slice(s.prefix.length) : s.text;
      replace(s.body, renderText(shown));
      scrollDown();
      return;
    }
    if (p.state === "error") {
      thread.append(h("div", { class: "callout callout-error" }, `The run failed: ${p.errorMessage || "unknown error"}`));
    } else if (p.state === "aborted") {
      thread.append(h("p", { class: "muted small run-note" }, "Run stopped."));
    }
    setRunning(null);
    scrollDown();
    // The transcript now holds the whole turn, tool results included.
    setTimeout(() => loadHistory(false), p.state === "final" ? 0 : 300);
    ctx.refreshSessions();
  }

  function onAgent(p) {
    if (!p || !(ctx.sameSession(sessionKey, p.sessionKey) || (runId && p.runId === runId))) return;
    const data = p.data || {};
    if (p.stream === "lifecycle" && data.phase === "start" && !runId) setRunning(p.runId);
    if (p.stream !== "tool") return;
    const id = data.toolCallId || `${data.name}-${liveTools.size}`;
    let card = liveTools.get(id);
    if (!card) {
      if (typing) {
        typing.remove();
        typing = null;
      }
      if (stream) stream.sealed = true;
      card = toolCard(data.name, data.args);
      liveTools.set(id, card);
      thread.append(messageRow("tool", { who: data.name || "tool", ts: p.ts, avatar: "⚙" }, card.el));
    }
    if (data.phase === "update") card.update(data.partialResult);
    if (data.phase === "result" || data.phase === "end") card.finish(data.result, Boolean(data.isError));
    scrollDown();
  }

  async function send(text) {
    const message = text.trim();
    if (!message) return;
    if (!ctx.gw.connected) {
      ctx.toast("Not connected: the message was not sent.", "error");
      return;
    }
    if (!runId) {
      const empty = thread.querySelector(".empty");
      if (empty) empty.remove();
      thread.append(messageRow("user", { who: "You", ts: Date.now(), avatar: "U" }, renderText(message)));
      typing = typingRow(identity());
      thread.append(typing);
      scrollDown(true);
    }
    try {
      const res = await ctx.gw.request("chat.send", { sessionKey, message, deliver: false, idempotencyKey: randomId() });
      if (res && res.runId && !runId) setRunning(res.runId);
    } catch (err) {
      if (typing) typing.remove();
      typing = null;
      thread.append(h("div", { class: "callout callout-error" }, `Not sent: ${err.message}`));
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  stopBtn.addEventListener("click", async () => {
    try {
      await ctx.gw.request("chat.abort", runId ? { sessionKey, runId } : { sessionKey });
    } catch (err) {
      ctx.toast(`Could not stop the run: ${err.message}`, "error");
    }
  });
  newBtn.addEventListener("click", () => send("/new"));
  refreshBtn.addEventListener("click", () => loadHistory(false));
  sessionSelect.addEventListener("change", () => {
    sessionKey = sessionSelect.value;
    updateSettings({ lastActiveSessionKey: sessionKey });
    ctx.navigate("chat", { session: sessionKey }, { replaceState: true });
  });

  ctx.on("chat", onChat);
  ctx.on("agent", onAgent);
  ctx.onShared((_, patch) => {
    if ("sessions" in patch) fillSessions();
  });
  ctx.onConnected(() => {
    setRunning(null);
    loadHistory(true);
  });
  if (getSettings().lastActiveSessionKey !== sessionKey) updateSettings({ lastActiveSessionKey: sessionKey });
  fillSessions();
  if (!ctx.gw.connected) replace(thread, h("p", { class: "empty" }, "Waiting for the gateway connection…"));
  input.focus();
}
