import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execaRunner, type CommandRunner } from './runner.js';

/**
 * The cluster's PKI, laid out as kubeadm lays out /etc/kubernetes/pki: one CA
 * (`podwire-ca`) that signs the API server's serving certificate and every
 * client certificate (admin, the API server's kubelet client, one per node),
 * and the ServiceAccount signing key pair. Made by Debian's `openssl` CLI (as
 * src/lab/www-cert.ts): Node can use certificates but cannot issue them, and
 * the openssl tool is the well-kept way to, with no npm dependency.
 *
 * Certificates use EC P-256 keys (generated in milliseconds, accepted by Go's
 * TLS so the real kubectl works); the ServiceAccount key is RSA 2048 because
 * bound tokens are RS256 JWTs as kube-apiserver signs them.
 *
 * Idempotent: a file pair that is there, signed by this CA, not expiring
 * within a day and (for the API server) naming every address asked for is
 * kept; anything else is made again. A new CA remakes every certificate.
 */

/** Who a certificate names: CN = user, O = groups (what the API server reads back). */
export interface CertSubject {
  commonName: string;
  organizations?: string[];
}

export interface CertPair {
  certFile: string;
  keyFile: string;
}

export interface PkiFiles {
  dir: string;
  ca: CertPair;
  apiserver: CertPair;
  admin: CertPair;
  apiserverKubeletClient: CertPair;
  /** RSA private key (PKCS#8 PEM) that signs ServiceAccount tokens. */
  saKey: string;
  /** Its public key (SPKI PEM) that verifies them. */
  saPub: string;
}

export interface PkiSpec {
  dir: string;
  /** IP SANs of the API server's certificate besides 127.0.0.1 and 10.96.0.1 (the control plane's address). */
  apiserverIps: string[];
  /** DNS SANs besides the kubernetes.default.svc… names and localhost. */
  apiserverDnsNames?: string[];
  /** Node names: each gets `node-<name>.crt` with CN system:node:<name>, O system:nodes. */
  nodes?: string[];
  /** Leaf validity (days); the CA gets ten times as long. */
  days?: number;
}

export const CA_COMMON_NAME = 'podwire-ca';
/** The `kubernetes` Service's ClusterIP (first address of the Service CIDR): in-cluster clients dial it. */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const APISERVER_DNS_NAMES = [
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
  'localhost',
];
export const ADMIN_SUBJECT: CertSubject = { commonName: 'kubernetes-admin', organizations: ['system:masters'] };
export const APISERVER_KUBELET_CLIENT_SUBJECT: CertSubject = {
  commonName: 'kube-apiserver-kubelet-client',
  organizations: ['system:masters'],
};
export function nodeSubject(node: string): CertSubject {
  return { commonName: `system:node:${node}`, organizations: ['system:nodes'] };
}

const pair = (dir: string, base: string): CertPair => ({
  certFile: path.join(dir, `${base}.crt`),
  keyFile: path.join(dir, `${base}.key`),
});

/** Where everything lives in `dir` (pure). */
export function pkiFiles(dir: string): PkiFiles {
  return {
    dir,
    ca: pair(dir, 'ca'),
    apiserver: pair(dir, 'apiserver'),
    admin: pair(dir, 'admin'),
    apiserverKubeletClient: pair(dir, 'apiserver-kubelet-client'),
    saKey: path.join(dir, 'sa.key'),
    saPub: path.join(dir, 'sa.pub'),
  };
}

export function nodeCertFiles(dir: string, node: string): CertPair {
  return pair(dir, `node-${node}`);
}

/** `/O=a/O=b/CN=c`, with `/` and `\` escaped as openssl's -subj wants. */
export function subjectArg(subject: CertSubject): string {
  const esc = (v: string) => v.replace(/[\\/]/g, (c) => `\\${c}`);
  return [...(subject.organizations ?? []).map((o) => `/O=${esc(o)}`), `/CN=${esc(subject.commonName)}`].join('');
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** The self-signed CA (pure argv). */
export function caArgv(ca: CertPair, days: number): string[] {
  return [
    'openssl',
    'req',
    '-x509',
    '-new',
    ...EC_KEY,
    '-keyout',
    ca.keyFile,
    '-out',
    ca.certFile,
    '-days',
    String(days),
    '-subj',
    subjectArg({ commonName: CA_COMMON_NAME }),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ];
}

export interface LeafOptions {
  subject: CertSubject;
  /** `serverAuth` for the API server, `clientAuth` for users and nodes. */
  usage: 'serverAuth' | 'clientAuth';
  ips?: string[];
  dnsNames?: string[];
}

/** The key and certificate request (pure argv; the CSR goes to stdout). */
export function leafRequestArgv(keyFile: string, leaf: LeafOptions): string[] {
  const san = [...(leaf.dnsNames ?? []).map((d) => `DNS:${d}`), ...(leaf.ips ?? []).map((ip) => `IP:${ip}`)];
  return [
    'openssl',
    'req',
    '-new',
    ...EC_KEY,
    '-keyout',
    keyFile,
    '-subj',
    subjectArg(leaf.subject),
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    '-addext',
    `extendedKeyUsage=${leaf.usage}`,
    ...(san.length ? ['-addext', `subjectAltName=${san.join(',')}`] : []),
  ];
}

/** The CA signs the CSR read from stdin, keeping its extensions (pure argv). */
export function signArgv(ca: CertPair, certFile: string, days: number, serialHex: string): string[] {
  return [
    'openssl',
    'x509',
    '-req',
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-copy_extensions',
    'copyall',
    '-set_serial',
    `0x${serialHex}`,
    '-days',
    String(days),
    '-out',
    certFile,
  ];
}

export function saKeyArgv(keyFile: string): string[] {
  return ['openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile];
}

export function saPubArgv(keyFile: string, pubFile: string): string[] {
  return ['openssl', 'pkey', '-in', keyFile, '-pubout', '-out', pubFile];
}

const DAY_MS = 86_400_000;

function readCert(file: string): crypto.X509Certificate | undefined {
  try {
    return new crypto.X509Certificate(fs.readFileSync(file));
  } catch {
    return undefined;
  }
}

/** Kept when both files exist, the key matches, it is valid for another day, and (leaves) the CA signed it and it names every address asked for. */
export function certUsable(
  p: CertPair,
  opts: { ca?: crypto.X509Certificate; ips?: string[]; dnsNames?: string[]; now?: number } = {},
): boolean {
  const cert = readCert(p.certFile);
  if (!cert || !fs.existsSync(p.keyFile)) return false;
  const now = opts.now ?? Date.now();
  if (Date.parse(cert.validTo) - now < DAY_MS) return false;
  try {
    if (!cert.checkPrivateKey(crypto.createPrivateKey(fs.readFileSync(p.keyFile)))) return false;
  } catch {
    return false;
  }
  if (opts.ca && !(cert.checkIssued(opts.ca) && cert.verify(opts.ca.publicKey))) return false;
  if ((opts.ips ?? []).some((ip) => cert.checkIP(ip) === undefined)) return false;
  if ((opts.dnsNames ?? []).some((d) => cert.checkHost(d, { wildcards: false }) === undefined)) return false;
  return true;
}

/** openssl writes into temporary names and they are renamed at the end: a crash never leaves a half pair. */
function tmpPair(p: CertPair): CertPair {
  return { certFile: `${p.certFile}.tmp`, keyFile: `${p.keyFile}.tmp` };
}
function commit(tmp: CertPair, p: CertPair): void {
  fs.chmodSync(tmp.keyFile, 0o600);
  fs.chmodSync(tmp.certFile, 0o600);
  fs.renameSync(tmp.keyFile, p.keyFile);
  fs.renameSync(tmp.certFile, p.certFile);
}

/** Issue (or keep) one leaf certificate signed by the CA in `dir`. Returns whether it was made. */
export async function ensureLeafCert(
  dir: string,
  p: CertPair,
  leaf: LeafOptions & { days?: number; force?: boolean },
  runner: CommandRunner = execaRunner(),
): Promise<boolean> {
  const files = pkiFiles(dir);
  const ca = readCert(files.ca.certFile);
  if (!leaf.force && certUsable(p, { ca, ips: leaf.ips, dnsNames: leaf.dnsNames })) return false;
  const tmp = tmpPair(p);
  const csr = await runner.run(leafRequestArgv(tmp.keyFile, leaf));
  await runner.run(signArgv(files.ca, tmp.certFile, leaf.days ?? 365, crypto.randomBytes(16).toString('hex')), {
    input: csr.stdout,
  });
  commit(tmp, p);
  return true;
}

export function apiserverSans(spec: Pick<PkiSpec, 'apiserverIps' | 'apiserverDnsNames'>): {
  ips: string[];
  dnsNames: string[];
} {
  return {
    ips: [...new Set([...spec.apiserverIps, '127.0.0.1', KUBERNETES_SERVICE_IP])],
    dnsNames: [...new Set([...APISERVER_DNS_NAMES, ...(spec.apiserverDnsNames ?? [])])],
  };
}

/**
 * Make (or keep) the whole PKI in `spec.dir` (mode 0700, files 0600).
 * Returns the paths and the base names of what was made this time.
 */
export async function ensurePki(
  spec: PkiSpec,
  runner: CommandRunner = execaRunner(),
): Promise<PkiFiles & { created: string[] }> {
  const files = pkiFiles(spec.dir);
  const days = spec.days ?? 365;
  const created: string[] = [];
  fs.mkdirSync(spec.dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(spec.dir, 0o700);

  let newCa = false;
  if (!certUsable(files.ca, { now: Date.now() + 30 * DAY_MS })) {
    const tmp = tmpPair(files.ca);
    await runner.run(caArgv(tmp, days * 10));
    commit(tmp, files.ca);
    newCa = true;
    created.push('ca');
  }
  const leaves: Array<[string, CertPair, LeafOptions]> = [
    [
      'apiserver',
      files.apiserver,
      { subject: { commonName: 'kube-apiserver' }, usage: 'serverAuth', ...apiserverSans(spec) },
    ],
    ['admin', files.admin, { subject: ADMIN_SUBJECT, usage: 'clientAuth' }],
    [
      'apiserver-kubelet-client',
      files.apiserverKubeletClient,
      { subject: APISERVER_KUBELET_CLIENT_SUBJECT, usage: 'clientAuth' },
    ],
    ...(spec.nodes ?? []).map((n): [string, CertPair, LeafOptions] => [
      `node-${n}`,
      nodeCertFiles(spec.dir, n),
      { subject: nodeSubject(n), usage: 'clientAuth' },
    ]),
  ];
  for (const [name, p, leaf] of leaves) {
    if (await ensureLeafCert(spec.dir, p, { ...leaf, days, force: newCa }, runner)) created.push(name);
  }

  if (!saKeysUsable(files)) {
    await runner.run(saKeyArgv(`${files.saKey}.tmp`));
    await runner.run(saPubArgv(`${files.saKey}.tmp`, `${files.saPub}.tmp`));
    commit(
      { keyFile: `${files.saKey}.tmp`, certFile: `${files.saPub}.tmp` },
      { keyFile: files.saKey, certFile: files.saPub },
    );
    created.push('sa');
  }
  return { ...files, created };
}

function saKeysUsable(files: PkiFiles): boolean {
  try {
    const priv = crypto.createPrivateKey(fs.readFileSync(files.saKey));
    const pub = crypto.createPublicKey(fs.readFileSync(files.saPub));
    return (
      priv.asymmetricKeyType === 'rsa' &&
      crypto
        .createPublicKey(priv)
        .export({ type: 'spki', format: 'der' })
        .equals(pub.export({ type: 'spki', format: 'der' }))
    );
  } catch {
    return false;
  }
}
