import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execaRunner } from '../../host/index.js';
import type { PemPair } from '../types.js';

/**
 * The certificate served when no Secret matches a TLS client's SNI:
 * ingress-nginx makes one at start, "Kubernetes Ingress Controller Fake
 * Certificate" (SAN ingress.local), and so does podwire — with Debian's
 * openssl CLI, as src/lab/www-cert.ts does (Node cannot make an X.509
 * certificate). An EC P-256 key takes milliseconds. `curl -v` against a
 * host without a Secret shows this subject, as against a real cluster.
 */
export const FAKE_CERT_SUBJECT = 'Kubernetes Ingress Controller Fake Certificate';

/** The openssl argv for a self-signed certificate naming `hosts` (pure: tests read it). */
export function selfSignedArgv(
  certFile: string,
  keyFile: string,
  commonName: string,
  hosts: readonly string[],
  days: number,
): string[] {
  const san = hosts.map((h) => (/^\d+\.\d+\.\d+\.\d+$/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  return [
    'req',
    '-x509',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    String(days),
    '-subj',
    `/O=Acme Co/CN=${commonName}`,
    ...(san ? ['-addext', `subjectAltName=${san}`] : []),
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'extendedKeyUsage=serverAuth',
  ];
}

/** Make a self-signed PEM pair with openssl (in a private temporary directory, removed after). */
export async function makeSelfSigned(commonName: string, hosts: readonly string[], days = 365): Promise<PemPair> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwcert-'));
  try {
    const cert = path.join(dir, 'tls.crt');
    const key = path.join(dir, 'tls.key');
    await execaRunner().run(['openssl', ...selfSignedArgv(cert, key, commonName, hosts, days)], { timeoutMs: 30_000 });
    return { cert: fs.readFileSync(cert, 'utf8'), key: fs.readFileSync(key, 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const makeFakeCertificate = (): Promise<PemPair> => makeSelfSigned(FAKE_CERT_SUBJECT, ['ingress.local']);
