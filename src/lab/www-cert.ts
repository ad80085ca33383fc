import fs from 'node:fs';
import path from 'node:path';
import { execaRunner, type CommandRunner } from '../host/index.js';

/**
 * The outside web server's TLS certificate: self-signed, made by Debian's
 * `openssl` CLI (present wherever `ca-certificates` is — the image and CI
 * install that). Node can serve TLS but cannot make an X.509 certificate; the
 * openssl tool is the well-kept way to, with no npm dependency for it.
 * An EC P-256 key: generated in milliseconds. The subjectAltName names the
 * server's address and names, so `curl --cacert www.crt https://172.28.0.200/`
 * verifies it; `curl -k` skips that.
 */
export interface CertFiles {
  certFile: string;
  keyFile: string;
}

export function certFilesIn(dir: string): CertFiles {
  return { certFile: path.join(dir, 'www.crt'), keyFile: path.join(dir, 'www.key') };
}

/** The openssl argv (pure: tests read it). */
export function selfSignedCertArgv(
  files: CertFiles,
  subject: { commonName: string; ips: string[]; dnsNames: string[] },
  days = 30,
): string[] {
  const san = [...subject.dnsNames.map((d) => `DNS:${d}`), ...subject.ips.map((ip) => `IP:${ip}`)].join(',');
  return [
    'openssl',
    'req',
    '-x509',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    files.keyFile,
    '-out',
    files.certFile,
    '-days',
    String(days),
    '-subj',
    `/CN=${subject.commonName}`,
    '-addext',
    `subjectAltName=${san}`,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'extendedKeyUsage=serverAuth',
  ];
}

/** Make the certificate in `dir` unless both files are there already; returns their paths. */
export async function ensureSelfSignedCert(
  dir: string,
  subject: { commonName: string; ips: string[]; dnsNames: string[] },
  runner: CommandRunner = execaRunner(),
): Promise<CertFiles & { created: boolean }> {
  const files = certFilesIn(dir);
  if (fs.existsSync(files.certFile) && fs.existsSync(files.keyFile)) return { ...files, created: false };
  fs.mkdirSync(dir, { recursive: true });
  await runner.run(selfSignedCertArgv(files, subject));
  fs.chmodSync(files.keyFile, 0o600);
  return { ...files, created: true };
}
