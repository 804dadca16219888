// Turning gateway numbers into short words for people: ages, durations, sizes.

export function duration(ms) {
  if (typeof ms !== "number" || !isFinite(ms) || ms < 0) return "n/a";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs}h ${m % 60}m`;
  return `${Math.floor(hrs / 24)}d ${hrs % 24}h`;
}

/** "5m ago" from a Unix ms timestamp. */
export function ago(ts) {
  if (typeof ts !== "number" || !ts) return "n/a";
  const diff = Date.now() - ts;
  if (diff < 0) return "just now";
  return diff < 1000 ? "just now" : `${duration(diff)} ago`;
}

export function clock(ts) {
  if (!ts) return "";
  const d = new Date(ts);
  return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function bytes(n) {
  if (typeof n !== "number") return "n/a";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** First 8 and last 4 characters of a long id. */
export function shortId(id) {
  if (typeof id !== "string") return "";
  return id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

/** The text of a message content field (string or array of parts). */
export function contentText(content) {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter((p) => p && p.type === "text" && typeof p.text === "string")
    .map((p) => p.text)
    .join("\n");
}
