import { randomInt } from 'node:crypto';
import { canonicalJson } from './objects.js';

/**
 * The names Kubernetes controllers make up: the pod-template-hash label
 * (controller.ComputeHash: FNV-32a over the template, the decimal value
 * rendered with rand.SafeEncodeString) and the 5-character random suffix of
 * generated names (utilrand.String). Both use the same alphabet — no vowels,
 * no 0/1/3, so the result never spells a word or looks like another name.
 */
export const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a, 32 bits, over the UTF-8 bytes of `s`. */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** rand.SafeEncodeString: every byte of `s` mapped to SAFE_ALPHABET[byte % 27]. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += SAFE_ALPHABET[b % SAFE_ALPHABET.length];
  return out;
}

/**
 * pod-template-hash of a pod template. Kubernetes hashes the Go struct
 * printed by spew; podwire hashes its canonical JSON (sorted keys), so the
 * value is stable across key order, but not byte-equal to a real cluster's.
 * `collisionCount` (status.collisionCount) is appended as upstream does.
 */
export function templateHash(template: unknown, collisionCount?: number): string {
  const text = canonicalJson(template ?? {}) + (collisionCount ? String(collisionCount) : '');
  return safeEncodeString(String(fnv32a(text)));
}

/** utilrand.String(n): n random characters of SAFE_ALPHABET. */
export function randomSuffix(n = 5): string {
  let out = '';
  for (let i = 0; i < n; i++) out += SAFE_ALPHABET[randomInt(SAFE_ALPHABET.length)];
  return out;
}

/** names.SimpleNameGenerator: base truncated so that base + 5 characters fit in 63. */
export function generateName(base: string, suffix: string): string {
  const max = 63 - suffix.length;
  return `${base.length > max ? base.slice(0, max) : base}${suffix}`;
}
