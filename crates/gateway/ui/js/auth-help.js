// Turning a refused or lost connection into plain words and the next step.
//
// The gateway closes with 1008 and a reason such as "unauthorized: gateway token missing (…)"
// or "pairing required"; the connect answer may also carry `error.details.code`
// (AUTH_TOKEN_MISSING, PAIRING_REQUIRED, …). Codes win; the reason text is the fallback for
// gateways that send only the close frame.

/**
 * @returns {{kind, title, text, commands?: string[], dockerCommands?: string[], requestId?}|null}
 */
export function explainDisconnect(status) {
  if (!status || status.state !== "disconnected") return null;
  const details = (status.error && status.error.details) || {};
  const code = String(details.code || "").toUpperCase();
  const reason = String(status.reason || (status.error && status.error.message) || "");
  const low = reason.toLowerCase();

  if (code === "PAIRING_REQUIRED" || low.includes("pairing required")) {
    const requestId = details.requestId || details.request_id || "<requestId>";
    return {
      kind: "pairing",
      title: "This browser is waiting for approval",
      text:
        "The token was accepted, but this browser is a new device for the gateway. Approve it " +
        "from a terminal on the gateway host. This page keeps retrying and connects by itself " +
        "once the request is approved.",
      requestId,
      commands: ["openclaw devices list", `openclaw devices approve ${requestId}`],
      dockerCommands: [
        "docker compose run --rm openclaw-cli devices list",
        `docker compose run --rm openclaw-cli devices approve ${requestId}`,
      ],
    };
  }
  if (code === "AUTH_TOKEN_MISSING" || low.includes("token missing")) {
    return {
      kind: "token-missing",
      title: "The gateway needs a token",
      text:
        "Open the link printed by `openclaw dashboard --no-open` (it carries the token), or paste " +
        "the gateway token into Overview → Gateway access and press Connect.",
      commands: ["openclaw dashboard --no-open"],
    };
  }
  if (code === "AUTH_DEVICE_TOKEN_MISMATCH" || low.includes("device token mismatch")) {
    return {
      kind: "device-token-mismatch",
      title: "This browser's device token is no longer valid",
      text:
        "The stored device token was rejected (rotated or revoked). Paste the gateway token in " +
        "Overview → Gateway access and press Connect to get a new one.",
    };
  }
  if (code === "AUTH_TOKEN_MISMATCH" || low.includes("token mismatch")) {
    return {
      kind: "token-mismatch",
      title: "The token does not match",
      text:
        "Update the token in Overview → Gateway access and press Connect. The current token is in " +
        "gateway.auth.token of openclaw.json (or OPENCLAW_GATEWAY_TOKEN).",
      commands: ["openclaw dashboard --no-open"],
    };
  }
  if (code.startsWith("AUTH_PASSWORD") || low.includes("password")) {
    return {
      kind: "password",
      title: "The gateway needs its password",
      text: "Enter the gateway password in Overview → Gateway access and press Connect. It is kept for this tab only.",
    };
  }
  if (code === "CONTROL_UI_ORIGIN_NOT_ALLOWED" || low.includes("origin not allowed")) {
    return {
      kind: "origin",
      title: "This address is not allowed to open the dashboard",
      text:
        `Open the dashboard from the gateway host (http://127.0.0.1), or add this origin ` +
        `(${location.origin}) to gateway.controlUi.allowedOrigins in openclaw.json:`,
      commands: [`openclaw config set gateway.controlUi.allowedOrigins '["${location.origin}"]'`],
    };
  }
  if (code.includes("DEVICE_IDENTITY_REQUIRED") || low.includes("device identity")) {
    return {
      kind: "device-identity",
      title: "The gateway requires a device identity",
      text:
        "This page could not create one (it needs a secure context). Open it over HTTPS, or through " +
        "loopback, e.g. an SSH tunnel: ssh -N -L 18789:127.0.0.1:18789 <gateway-host>, then http://127.0.0.1:18789/.",
    };
  }
  if (code.startsWith("DEVICE_AUTH")) {
    return {
      kind: "device-auth",
      title: "The device signature was refused",
      text: `${reason || code}. Check that this machine's clock is right, then reload the page.`,
    };
  }
  if (code === "AUTH_RATE_LIMITED" || low.includes("rate limit")) {
    return {
      kind: "rate-limited",
      title: "Too many attempts",
      text: "The gateway is rate limiting this client. Wait a minute; the page retries by itself.",
    };
  }
  if (status.code === 1006 || status.code === 0 || !reason) {
    return {
      kind: "unreachable",
      title: "Cannot reach the gateway",
      text:
        "Nothing answered at the WebSocket URL. Check that the gateway is running " +
        "(`openclaw gateway status`) and that the URL in Overview is right. Retrying…",
      commands: ["openclaw gateway status"],
    };
  }
  return { kind: "other", title: "Disconnected", text: reason };
}

/** Why no device identity could be made, in plain words (null when there is one). */
export function explainNoIdentity(reason) {
  if (!reason) return null;
  const why =
    reason === "insecure-context"
      ? "this page is not a secure context (plain HTTP on a non-loopback address)"
      : reason === "no-webcrypto"
        ? "this browser offers no WebCrypto here"
        : "this browser does not support Ed25519 keys in WebCrypto";
  return (
    `No device identity: ${why}, so the browser cannot sign in as a paired device. ` +
    "Connecting with the token alone; the gateway may refuse. Open the dashboard over HTTPS or " +
    "via loopback (http://127.0.0.1:<port>, e.g. through an SSH tunnel) to fix this."
  );
}
