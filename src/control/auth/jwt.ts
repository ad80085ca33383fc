import crypto, { type KeyObject } from 'node:crypto';
import { AuthError } from './errors.js';

/**
 * JSON Web Tokens signed with RS256 (RFC 7515/7519), all node:crypto needs
 * to do for ServiceAccount tokens: `header.payload.signature`, each part
 * base64url. The key id is what Kubernetes puts in `kid`: the base64url
 * SHA-256 of the public key's DER (SubjectPublicKeyInfo), so a verifier
 * holding several keys picks the right one.
 */
const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

const kids = new WeakMap<KeyObject, string>();

export function keyId(publicKey: KeyObject): string {
  let kid = kids.get(publicKey);
  if (!kid) {
    kid = b64url(
      crypto
        .createHash('sha256')
        .update(publicKey.export({ type: 'spki', format: 'der' }))
        .digest(),
    );
    kids.set(publicKey, kid);
  }
  return kid;
}

export function signJwt(claims: Record<string, unknown>, privateKey: KeyObject): string {
  const header = { alg: 'RS256', kid: keyId(crypto.createPublicKey(privateKey)) };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(crypto.sign('sha256', Buffer.from(input), privateKey))}`;
}

/** Does this look like a JWT at all (three base64url parts, a JSON header)? */
export function isJwt(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  try {
    return typeof JSON.parse(Buffer.from(parts[0], 'base64url').toString()) === 'object';
  } catch {
    return false;
  }
}

/** The claims of a token signed by one of `keys` (RS256 only), else AuthError. Claims are not checked here. */
export function verifyJwt(token: string, keys: KeyObject[]): Record<string, any> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new AuthError('ERR_TOKEN_MALFORMED', 'not a JWT');
  let header: { alg?: string; kid?: string };
  let claims: Record<string, any>;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  } catch (e) {
    throw new AuthError('ERR_TOKEN_MALFORMED', 'a JWT part is not base64url JSON', { cause: e });
  }
  if (!claims || typeof claims !== 'object' || Array.isArray(claims))
    throw new AuthError('ERR_TOKEN_MALFORMED', 'JWT claims are not an object');
  // only RS256: "none" and HMAC algorithms (signed with the public key as a secret) are refused
  if (header?.alg !== 'RS256')
    throw new AuthError('ERR_TOKEN_SIGNATURE', `unsupported JWT algorithm ${String(header?.alg)}`);
  const sig = Buffer.from(parts[2], 'base64url');
  const input = Buffer.from(`${parts[0]}.${parts[1]}`);
  const candidates = header.kid ? keys.filter((k) => keyId(k) === header.kid) : keys;
  for (const k of candidates.length ? candidates : keys) {
    if (crypto.verify('sha256', input, k, sig)) return claims;
  }
  throw new AuthError('ERR_TOKEN_SIGNATURE', 'invalid signature');
}
