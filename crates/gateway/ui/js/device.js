// This browser's device identity: an Ed25519 key pair made with WebCrypto.
//
// The gateway pairs devices by key: deviceId is the hex SHA-256 of the raw public key, and each
// connect carries a signature over the challenge (payload v3). The key pair is kept in
// localStorage as the JWK parts (`publicKey` = x, `privateKey` = d, both base64url), the same
// record shape OpenClaw's dashboard uses. WebCrypto only exists in secure contexts (HTTPS or
// loopback); elsewhere `loadIdentity` reports why and the UI connects without a device.

const IDENTITY_KEY = "openclaw-device-identity-v1";

export function base64url(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "===".slice((b64.length + 3) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function deviceIdFor(rawPublicKey) {
  const digest = await crypto.subtle.digest("SHA-256", rawPublicKey);
  return hex(new Uint8Array(digest));
}

/** Why device identity is unavailable here, or null when WebCrypto Ed25519 can be used. */
function unavailableReason() {
  if (!window.isSecureContext) {
    return "insecure-context";
  }
  if (!window.crypto || !crypto.subtle) {
    return "no-webcrypto";
  }
  return null;
}

async function importStored(stored) {
  const jwk = { kty: "OKP", crv: "Ed25519", x: stored.publicKey, d: stored.privateKey, ext: true };
  const privateKey = await crypto.subtle.importKey("jwk", jwk, { name: "Ed25519" }, false, [
    "sign",
  ]);
  const rawPublic = fromBase64url(stored.publicKey);
  if (rawPublic.length !== 32) throw new Error("stored public key has the wrong length");
  const deviceId = await deviceIdFor(rawPublic);
  return { deviceId, publicKey: stored.publicKey, privateKey };
}

async function generate() {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const rawPublic = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const deviceId = await deviceIdFor(rawPublic);
  const publicKey = base64url(rawPublic);
  const record = { version: 1, deviceId, publicKey, privateKey: jwk.d, createdAtMs: Date.now() };
  try {
    localStorage.setItem(IDENTITY_KEY, JSON.stringify(record));
  } catch {
    // Without storage the identity lasts for this tab; the gateway will ask to pair again later.
  }
  return { deviceId, publicKey, privateKey: pair.privateKey };
}

/**
 * Loads (or creates) the identity.
 * Resolves to `{ok:true, identity}` or `{ok:false, reason}` where reason is one of
 * `insecure-context`, `no-webcrypto`, `no-ed25519`.
 */
export async function loadIdentity() {
  const reason = unavailableReason();
  if (reason) return { ok: false, reason };
  let stored = null;
  try {
    stored = JSON.parse(localStorage.getItem(IDENTITY_KEY) || "null");
  } catch {
    stored = null;
  }
  if (stored && typeof stored.publicKey === "string" && typeof stored.privateKey === "string") {
    try {
      return { ok: true, identity: await importStored(stored) };
    } catch {
      // Unreadable or foreign record: make a new identity below (the gateway will pair it anew).
    }
  }
  try {
    return { ok: true, identity: await generate() };
  } catch {
    return { ok: false, reason: "no-ed25519" };
  }
}

/** The v3 payload string the gateway verifies (gateway.md §3.3). */
export function signaturePayload(p) {
  return [
    "v3",
    p.deviceId,
    p.clientId,
    p.clientMode,
    p.role,
    p.scopes.join(","),
    String(p.signedAt),
    p.token || "",
    p.nonce,
    (p.platform || "").trim().toLowerCase(),
    (p.deviceFamily || "").trim().toLowerCase(),
  ].join("|");
}

/** Builds the `device` field of the connect params for one challenge. */
export async function signConnect(identity, fields) {
  const payload = signaturePayload({ ...fields, deviceId: identity.deviceId });
  const sig = await crypto.subtle.sign(
    { name: "Ed25519" },
    identity.privateKey,
    new TextEncoder().encode(payload),
  );
  return {
    id: identity.deviceId,
    publicKey: identity.publicKey,
    signature: base64url(new Uint8Array(sig)),
    signedAt: fields.signedAt,
    nonce: fields.nonce,
  };
}
