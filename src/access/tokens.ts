/**
 * Tokens minted by `POST /v1/admin/tokens`: `floe_sk_{id}_{secret}` (secret tokens) and
 * `floe_pk_{id}_{secret}` (public keys, for browsers). The id finds the token's record; the secret
 * (32 random bytes) is kept only as its SHA-256 hash, so the registry's storage cannot be replayed
 * as tokens. A slow hash (bcrypt, scrypt) guards guessable passwords; these secrets have 256 bits
 * of entropy, so a plain hash is enough and keeps the check cheap on every request.
 */
const TOKEN = /^floe_(sk|pk)_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface TokenParts {
  kind: "secret" | "public";
  id: string;
  secret: string;
}

export function parseToken(raw: string): TokenParts | null {
  const m = TOKEN.exec(raw);
  return m ? { kind: m[1] === "pk" ? "public" : "secret", id: m[2], secret: m[3] } : null;
}

/** A new token's id, secret and the string handed to its owner (once). */
export function newToken(kind: "secret" | "public"): TokenParts & { token: string } {
  const id = hex(crypto.getRandomValues(new Uint8Array(8)));
  const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
  return { kind, id, secret, token: `floe_${kind === "public" ? "pk" : "sk"}_${id}_${secret}` };
}

export async function hashSecret(secret: string): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret))));
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function base64url(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const enc = new TextEncoder();

/**
 * Compares two secrets in time independent of where they differ and of their lengths: both are
 * hashed first, then every byte of the digests is compared.
 */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([crypto.subtle.digest("SHA-256", enc.encode(a)), crypto.subtle.digest("SHA-256", enc.encode(b))]);
  const u = new Uint8Array(x);
  const v = new Uint8Array(y);
  let diff = 0;
  for (let i = 0; i < u.length; i++) diff |= u[i] ^ v[i];
  return diff === 0;
}
