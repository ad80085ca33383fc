import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSelfSignedCert } from '../../../src/lab/www-cert.js';
import type { PemPair, RequestInfo, RouteDecision } from '../../../src/ingress/types.js';
import {
  echoHandler,
  literalTable,
  request,
  ROUTE,
  startProxy,
  target,
  upstream,
  waitFor,
  type Upstream,
} from '../support/ingress-proxy.js';

// TLS termination with certificates by SNI, made with Debian's openssl as
// the lab makes its own (src/lab/www-cert.ts). Which certificate a
// handshake got is read from the peer certificate's CN.
let dir: string;
let certs: Record<'a' | 'b' | 'fallback' | 'a2', PemPair>;
let backend: Upstream;
const seen: RequestInfo[] = [];
const events: string[] = [];
let proxy: Awaited<ReturnType<typeof startProxy>>;

async function makeCert(name: string, cn: string): Promise<PemPair> {
  const f = await ensureSelfSignedCert(path.join(dir, name), { commonName: cn, ips: [], dnsNames: [cn] });
  return { cert: fs.readFileSync(f.certFile, 'utf8'), key: fs.readFileSync(f.keyFile, 'utf8') };
}

const route = (r: RequestInfo): RouteDecision => {
  seen.push(r);
  return { kind: 'proxy', route: ROUTE, backends: [target(backend.port)] };
};
const listeners = [
  { port: 80, tls: false },
  { port: 443, tls: true },
];
const byName = (table: Record<string, PemPair>, fallback?: PemPair) => (sni: string | undefined) =>
  (sni && table[sni]) || fallback;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-ingress-tls-'));
  const [a, b, fallback, a2] = await Promise.all([
    makeCert('a', 'a.example.com'),
    makeCert('b', 'b.example.com'),
    makeCert('fallback', 'Kubernetes Ingress Controller Fake Certificate'),
    makeCert('a2', 'a.example.com'),
  ]);
  certs = { a, b, fallback, a2 };
  backend = await upstream(echoHandler('tls-backend'));
  proxy = await startProxy(
    literalTable(listeners, route, byName({ 'a.example.com': a, 'b.example.com': b }, fallback)),
    { onError: (e) => events.push(`${e.kind}: ${e.message}`) },
  );
});
afterAll(async () => {
  await proxy?.proxy.stop();
  await backend?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The CN and fingerprint of the certificate the proxy presents for `servername` (none: no SNI). */
function served(servername?: string): Promise<{ cn: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: proxy.port(443), servername, rejectUnauthorized: false }, () => {
      const c = s.getPeerCertificate();
      s.end();
      resolve({ cn: String(c.subject.CN), fingerprint: c.fingerprint256 });
    });
    s.on('error', reject);
  });
}

const fingerprintOf = (p: PemPair): string => new X509Certificate(p.cert).fingerprint256;

describe('ingress proxy: TLS', () => {
  it('presents the certificate for each SNI, and the default for an unknown or missing SNI', async () => {
    expect((await served('a.example.com')).cn).toBe('a.example.com');
    expect((await served('B.Example.com')).cn).toBe('b.example.com');
    expect((await served('unknown.example.com')).cn).toBe('Kubernetes Ingress Controller Fake Certificate');
    expect((await served(undefined)).cn).toBe('Kubernetes Ingress Controller Fake Certificate');
  });

  it('terminates TLS and forwards with X-Forwarded-Proto https; the route sees the SNI', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: proxy.port(443),
          path: '/secure',
          servername: 'a.example.com',
          ca: certs.a.cert,
          headers: { host: 'a.example.com' },
          checkServerIdentity: () => undefined,
          agent: false,
        },
        (res) => {
          let s = '';
          res.on('data', (c) => (s += c));
          res.on('end', () => resolve(s));
        },
      );
      req.on('error', reject);
      req.end();
    });
    const h = JSON.parse(body).headers;
    expect(h['x-forwarded-proto']).toBe('https');
    expect(h['x-forwarded-port']).toBe('443');
    expect(seen.at(-1)).toMatchObject({
      port: 443,
      tls: true,
      sni: 'a.example.com',
      host: 'a.example.com',
      path: '/secure',
    });
    expect(proxy.access.at(-1)).toMatchObject({ tls: true, port: 443, status: 200 });
  });

  it('serves a changed certificate after setTable', async () => {
    await proxy.proxy.setTable(literalTable(listeners, route, byName({ 'a.example.com': certs.a2 }, certs.fallback)));
    const got = await served('a.example.com');
    expect(got.cn).toBe('a.example.com');
    expect(got.fingerprint).not.toBe(fingerprintOf(certs.a));
    expect(got.fingerprint).toBe(fingerprintOf(certs.a2));
    expect((await served('b.example.com')).cn).toBe('Kubernetes Ingress Controller Fake Certificate');
  });

  it('fails a handshake cleanly when there is no certificate at all, or a bad one, and keeps serving', async () => {
    const bad: PemPair = {
      cert: '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n',
      key: certs.a.key,
    };
    await proxy.proxy.setTable(literalTable(listeners, route, byName({ 'bad.example.com': bad })));
    events.length = 0;
    await expect(served(undefined)).rejects.toThrow();
    await expect(served('unknown.example.com')).rejects.toThrow();
    await expect(served('bad.example.com')).rejects.toThrow();
    await waitFor(
      () => events.filter((e) => e.startsWith('tls-handshake')).length >= 3,
      5000,
      'the handshake failures to be counted',
    );
    expect((await request(proxy.port(80), '/plain')).status).toBe(200);
    await proxy.proxy.setTable(literalTable(listeners, route, byName({ 'a.example.com': certs.a }, certs.fallback)));
    expect((await served(undefined)).cn).toBe('Kubernetes Ingress Controller Fake Certificate');
  });
});
