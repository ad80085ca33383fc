/**
 * TLS certificates: read from Secrets (tls.crt / tls.key, base64 in data or
 * plain in stringData), checked, and served by SNI per port. The check is
 * what ingress-nginx and the Gateway API ask for: a Secret whose data is not a
 * certificate and key is "malformed" (Gateway: InvalidCertificateRef;
 * ingress-nginx: the default certificate instead). Parsing uses node:crypto
 * only — no I/O.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Obj, PemPair } from '../types.js';
import { gatewayWildcardsFor, ingressWildcardFor, isWildcard } from './hosts.js';

export type SecretPair = { ok: true; pair: PemPair; x509: X509Certificate } | { ok: false; reason: string };

function field(secret: Obj, key: string): string | undefined {
  const plain = secret.stringData?.[key];
  if (typeof plain === 'string' && plain) return plain;
  const b64 = secret.data?.[key];
  if (typeof b64 !== 'string' || !b64) return undefined;
  return Buffer.from(b64, 'base64').toString('utf8');
}

/** The PEM pair in a Secret, or why it cannot be used. */
export function tlsPairFromSecret(secret: Obj, key: string): SecretPair {
  const cert = field(secret, 'tls.crt');
  const keyPem = field(secret, 'tls.key');
  if (!cert || !keyPem) return { ok: false, reason: `Secret ${key} has no ${!cert ? 'tls.crt' : 'tls.key'}` };
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    return { ok: false, reason: `Secret ${key}: tls.crt is not a PEM certificate` };
  }
  try {
    const k = createPrivateKey(keyPem);
    if (!x509.checkPrivateKey(k)) return { ok: false, reason: `Secret ${key}: tls.key does not belong to tls.crt` };
  } catch {
    return { ok: false, reason: `Secret ${key}: tls.key is not a PEM private key` };
  }
  return { ok: true, pair: { cert, key: keyPem }, x509 };
}

/** Does the certificate name this host (SANs, else the subject CN — Node's checkHost, like Go's VerifyHostname)? */
export function certCoversHost(x509: X509Certificate, host: string): boolean {
  if (isWildcard(host)) host = `x${host.slice(1)}`; // a wildcard rule host is covered by a wildcard certificate
  return x509.checkHost(host) !== undefined;
}

interface PortCerts {
  exact: Map<string, PemPair>;
  /** Ingress wildcards cover one label, Gateway ones any number: kept apart. */
  ingressWildcards: Map<string, PemPair>;
  gatewayWildcards: Map<string, PemPair>;
  /** a Gateway listener without hostname serves its certificate to every SNI on its port */
  any?: PemPair;
}

/** Certificates by (port, SNI): exact host, then wildcard (most specific), then any-host, then the default. */
export class CertificateStore {
  private readonly ports = new Map<number, PortCerts>();

  constructor(private readonly fallback: PemPair | undefined) {}

  private at(port: number): PortCerts {
    let p = this.ports.get(port);
    if (!p) this.ports.set(port, (p = { exact: new Map(), ingressWildcards: new Map(), gatewayWildcards: new Map() }));
    return p;
  }

  /** First one in wins: callers add in precedence order (oldest Ingress, oldest Gateway). */
  addIngress(port: number, host: string, pair: PemPair): void {
    const p = this.at(port);
    const map = isWildcard(host) ? p.ingressWildcards : p.exact;
    if (!map.has(host)) map.set(host, pair);
  }

  addGateway(port: number, hostname: string | undefined, pair: PemPair): void {
    const p = this.at(port);
    if (hostname === undefined || hostname === '') {
      p.any ??= pair;
      return;
    }
    const map = isWildcard(hostname) ? p.gatewayWildcards : p.exact;
    if (!map.has(hostname)) map.set(hostname, pair);
  }

  lookup(sni: string | undefined, port: number): PemPair | undefined {
    const p = this.ports.get(port);
    if (!p) return this.fallback;
    if (sni) {
      const host = sni.toLowerCase();
      const exact = p.exact.get(host);
      if (exact) return exact;
      const w = ingressWildcardFor(host);
      const iw = w !== undefined ? p.ingressWildcards.get(w) : undefined;
      if (iw) return iw;
      for (const g of gatewayWildcardsFor(host)) {
        const gw = p.gatewayWildcards.get(g);
        if (gw) return gw;
      }
    }
    return p.any ?? this.fallback;
  }
}
