import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import net, { type AddressInfo } from 'node:net';
import { ensurePki, nodeCertFiles, subjectArg, pkiFiles, type PkiFiles } from '../../../src/host/index.js';

// The lab's PKI, made by the real openssl and checked by Node's own TLS: the
// API server's certificate verifies against the CA under every name a client
// dials, and a client certificate's CN/O come back as the user and groups.
describe('pki (real openssl)', () => {
  let dir: string;
  let pki: PkiFiles & { created: string[] };
  beforeAll(async () => {
    dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pw-pki-')), 'pki');
    pki = await ensurePki({ dir, apiserverIps: ['10.0.0.1'], nodes: ['node1', 'node2'] });
  }, 60_000);
  afterAll(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

  it('makes every file, 0600 in a 0700 directory, and keeps them the second time', async () => {
    expect(pki.created).toEqual([
      'ca',
      'apiserver',
      'admin',
      'apiserver-kubelet-client',
      'node-node1',
      'node-node2',
      'sa',
    ]);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    const names = fs.readdirSync(dir).sort();
    expect(names).toEqual(
      [
        'admin.crt',
        'admin.key',
        'apiserver-kubelet-client.crt',
        'apiserver-kubelet-client.key',
        'apiserver.crt',
        'apiserver.key',
        'ca.crt',
        'ca.key',
        'node-node1.crt',
        'node-node1.key',
        'node-node2.crt',
        'node-node2.key',
        'sa.key',
        'sa.pub',
      ].sort(),
    );
    for (const n of names) expect(fs.statSync(path.join(dir, n)).mode & 0o777).toBe(0o600);
    const before = fs.readFileSync(pki.admin.certFile, 'utf8');
    const again = await ensurePki({ dir, apiserverIps: ['10.0.0.1'], nodes: ['node1', 'node2', 'node3'] });
    expect(again.created).toEqual(['node-node3']);
    expect(fs.readFileSync(pki.admin.certFile, 'utf8')).toBe(before);
  }, 60_000);

  it('subjects and SANs as kubeadm makes them', () => {
    const ca = new crypto.X509Certificate(fs.readFileSync(pki.ca.certFile));
    expect(ca.subject).toBe('CN=podwire-ca');
    expect(ca.ca).toBe(true);
    const api = new crypto.X509Certificate(fs.readFileSync(pki.apiserver.certFile));
    expect(api.subjectAltName).toBe(
      'DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, DNS:localhost, IP Address:10.0.0.1, IP Address:127.0.0.1, IP Address:10.96.0.1',
    );
    expect(api.verify(ca.publicKey)).toBe(true);
    const node = new crypto.X509Certificate(fs.readFileSync(nodeCertFiles(dir, 'node1').certFile));
    expect(node.subject.split('\n').sort()).toEqual(['CN=system:node:node1', 'O=system:nodes']);
    expect(node.verify(ca.publicKey)).toBe(true);
    expect(subjectArg({ commonName: 'a/b', organizations: ['x', 'y'] })).toBe('/O=x/O=y/CN=a\\/b');
  });

  it('Node TLS: the server cert verifies as 10.96.0.1 and kubernetes.default.svc; the client cert names user and group', async () => {
    const read = (f: string) => fs.readFileSync(f);
    const server = https.createServer(
      {
        cert: read(pki.apiserver.certFile),
        key: read(pki.apiserver.keyFile),
        ca: read(pki.ca.certFile),
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        const s = req.socket as tls.TLSSocket;
        const peer = s.getPeerCertificate();
        res.end(JSON.stringify({ authorized: s.authorized, cn: peer.subject?.CN, o: peer.subject?.O ?? null }));
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const get = (servername: string, client?: { certFile: string; keyFile: string }) =>
      new Promise<string>((resolve, reject) => {
        https
          .get(
            {
              host: '127.0.0.1',
              port,
              ...(net.isIP(servername) ? {} : { servername }),
              ca: read(pki.ca.certFile),
              ...(client ? { cert: read(client.certFile), key: read(client.keyFile) } : {}),
              // the identity checked is the name (or IP) the client meant to dial, not 127.0.0.1
              checkServerIdentity: (_h, cert) => tls.checkServerIdentity(servername, cert),
            },
            (res) => {
              let body = '';
              res.on('data', (c) => (body += c));
              res.on('end', () => resolve(body));
            },
          )
          .on('error', reject);
      });
    try {
      expect(JSON.parse(await get('kubernetes.default.svc', pki.admin))).toEqual({
        authorized: true,
        cn: 'kubernetes-admin',
        o: 'system:masters',
      });
      expect(JSON.parse(await get('localhost', nodeCertFiles(dir, 'node2')))).toEqual({
        authorized: true,
        cn: 'system:node:node2',
        o: 'system:nodes',
      });
      expect(JSON.parse(await get('10.96.0.1'))).toMatchObject({ authorized: false });
      await expect(get('kubernetes.example')).rejects.toThrow(/altnames/);
    } finally {
      server.close();
    }
  }, 30_000);

  it('the ServiceAccount key pair signs and verifies RS256', () => {
    const priv = crypto.createPrivateKey(fs.readFileSync(pki.saKey));
    expect(priv.asymmetricKeyType).toBe('rsa');
    expect(priv.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const sig = crypto.sign('sha256', Buffer.from('x'), priv);
    expect(crypto.verify('sha256', Buffer.from('x'), crypto.createPublicKey(fs.readFileSync(pki.saPub)), sig)).toBe(
      true,
    );
  });

  it('a certificate another CA signed, or one missing a new address, is made again', async () => {
    const other = path.join(path.dirname(dir), 'other');
    const o = await ensurePki({ dir: other, apiserverIps: ['10.0.0.1'] });
    fs.copyFileSync(o.admin.certFile, pki.admin.certFile);
    fs.copyFileSync(o.admin.keyFile, pki.admin.keyFile);
    const r = await ensurePki({ dir, apiserverIps: ['10.0.0.1', '10.0.0.9'], nodes: ['node1'] });
    expect(r.created).toEqual(['apiserver', 'admin']);
    const ca = new crypto.X509Certificate(fs.readFileSync(pkiFiles(dir).ca.certFile));
    expect(new crypto.X509Certificate(fs.readFileSync(r.admin.certFile)).verify(ca.publicKey)).toBe(true);
    expect(new crypto.X509Certificate(fs.readFileSync(r.apiserver.certFile)).checkIP('10.0.0.9')).toBe('10.0.0.9');
  }, 60_000);
});
