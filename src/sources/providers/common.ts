import type { SourceConfig } from "../config.js";

/** Why a delivery was refused. Every one of them is the sender's (or an impostor's) problem except `bad_secret_config`. */
export type VerifyFailureReason = "missing_signature" | "bad_signature" | "expired" | "missing_header" | "bad_secret_config";

/** A refused delivery: `reason` for a program, `message` for a person (never contains a secret or a digest we computed). */
export interface VerifyFailure {
  ok: false;
  reason: VerifyFailureReason;
  message: string;
}

/** An authentic delivery, described from its headers and (after the signature held) its body. */
export interface VerifiedOk {
  ok: true;
  /** The sender's id for this event, stable across its retries; the SHA-256 hex of the body when the scheme has none. */
  deliveryId: string;
  /** e.g. `push`, `invoice.paid`, `orders/create`; null when the scheme does not say. */
  eventType: string | null;
  /** When Floe received it (the injected clock), ISO-8601 UTC. */
  receivedAt: string;
  /** The timestamp the sender signed, ISO-8601 UTC; null for schemes that sign none (GitHub, Shopify, generic HMAC). */
  signedAt: string | null;
  /** The provider's own headers, names lower-cased, signature headers left out. */
  providerHeaders: Record<string, string>;
  /** False when the body is not UTF-8 JSON (e.g. Slack slash commands are form-encoded). */
  bodyIsJson: boolean;
  /** The parsed body when `bodyIsJson`, else undefined. */
  payload: unknown;
  /** Slack `url_verification`: answer the request with this value, and store nothing. */
  challenge?: string;
  /** GitHub `ping` (sent when a webhook is created): answer 2xx; there is no event to store. */
  ping?: true;
}

export type VerifiedDelivery = VerifiedOk | VerifyFailure;

/** What a provider's signature check needs: keys derived from `source.secrets`, the raw bytes, the clock. */
export interface CheckInput {
  source: SourceConfig;
  headers: Headers;
  body: Uint8Array;
  keys: Uint8Array[];
  /** ms since the epoch. */
  now: number;
  toleranceSeconds: number;
}

/** What a provider says once the signature holds: its id and type, read from headers or from the parsed body. */
export interface Description {
  deliveryId: string | null;
  eventType: string | null;
  challenge?: string;
  ping?: true;
}

/** One signature scheme. */
export interface Provider {
  /** Turns one configured secret into HMAC key bytes; null when the secret cannot be one. */
  key(secret: string): Uint8Array | null;
  /** Checks headers, signature and replay window on the raw bytes; `signedAt` is unix seconds or null. */
  check(input: CheckInput): Promise<VerifyFailure | { ok: true; signedAt: number | null }>;
  /** Reads id and type; `payload` is undefined when the body is not JSON. */
  describe(headers: Headers, payload: unknown, source: SourceConfig): Description;
  /** Which lower-cased header names are the provider's own and worth keeping. */
  keepHeader(name: string, source: SourceConfig): boolean;
}

export const utf8 = new TextEncoder();

export function fail(reason: VerifyFailureReason, message: string): VerifyFailure {
  return { ok: false, reason, message };
}

/**
 * Compares two byte strings in time that depends only on their lengths (public: a digest's length
 * is fixed by the algorithm), never on where they differ: every byte is XORed into an accumulator
 * and the loop never exits early. Different lengths are unequal.
 *
 * @example
 * constantTimeEqual(expectedDigest, decodeHex(sigFromHeader) ?? new Uint8Array()); // true only if identical
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ (i < b.length ? b[i] : 0);
  return diff === 0;
}

/** HMAC of `data` under `key` with Web Crypto (the same API in workerd and Node). */
export async function hmac(hash: "SHA-256" | "SHA-1", key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
}

/**
 * True when any key's HMAC of `data` equals any candidate. All pairs are compared, none skipped
 * after a match, so the time taken says nothing about which secret or which signature matched.
 */
export async function anyMatch(hash: "SHA-256" | "SHA-1", keys: Uint8Array[], data: Uint8Array, candidates: Uint8Array[]): Promise<boolean> {
  const digests = await Promise.all(keys.map((k) => hmac(hash, k, data)));
  let ok = false;
  for (const d of digests) for (const c of candidates) ok = constantTimeEqual(d, c) || ok;
  return ok;
}

/** The signed bytes: text parts, then the raw body untouched (re-encoding a decoded body could change bytes that are not valid UTF-8). */
export function signedContent(prefix: string, body: Uint8Array): Uint8Array {
  const p = utf8.encode(prefix);
  const out = new Uint8Array(p.length + body.length);
  out.set(p, 0);
  out.set(body, p.length);
  return out;
}

export function decodeHex(s: string): Uint8Array | null {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return null;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Standard (RFC 4648 §4) or URL-safe (§5) base64, padding optional; null when it is neither. */
export function decodeBase64(s: string): Uint8Array | null {
  const std = s.replace(/-/g, "+").replace(/_/g, "/");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(std)) return null;
  const bare = std.replace(/=+$/, "");
  if (bare.length % 4 === 1) return null;
  try {
    const bin = atob(bare + "=".repeat((4 - (bare.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

/** A unix time in whole seconds, as Stripe, Slack and Standard Webhooks send it; null for anything else. */
export function unixSeconds(s: string | null | undefined): number | null {
  return s && /^\d{1,12}$/.test(s.trim()) ? Number(s.trim()) : null;
}

/**
 * The replay window: a timestamp more than `tolerance` seconds away from now, in either direction,
 * is refused. Future timestamps too: a signature made for the future would otherwise stay
 * replayable until that future had passed.
 */
export function outsideWindow(signedAt: number, now: number, toleranceSeconds: number): VerifyFailure | null {
  const skew = now / 1000 - signedAt;
  if (Math.abs(skew) <= toleranceSeconds) return null;
  const when = skew > 0 ? `${Math.round(skew)} s old` : `${Math.round(-skew)} s in the future`;
  return fail("expired", `the signed timestamp ${signedAt} is ${when}; the window is ${toleranceSeconds} s`);
}

/** A non-empty string member of a parsed JSON object (own members only), else null. */
export function field(payload: unknown, name: string): string | null {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return null;
  if (!Object.hasOwn(payload, name)) return null;
  const v = (payload as Record<string, unknown>)[name];
  return typeof v === "string" && v !== "" ? v : null;
}
