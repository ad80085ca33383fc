import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import type tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { ensurePki, type PkiFiles } from '../../../src/host/index.js';
import {
  ApiClient,
  ApiClientError,
  inClusterConfig,
  inClusterOr,
  kubeconfigYaml,
  loadKubeconfig,
  parseKubeconfig,
  writeKubeconfig,
} from '../../../src/control/client/index.js';

// The client's https transport against a real TLS server holding the lab
// PKI's serving certificate (openssl-made): the server answers a NamespaceList
// naming who the request came as — the client certificate's CN/O, or the
// Bearer token — so each test sees what the API server would authenticate.
describe('ApiClient over https: CA, client certificate, Bearer token, kubeconfig, in-cluster', () => {
  let dir: string;
  let pki: PkiFiles;
  let server: https.Server;
  let url: string;
  const read = (f: string) => fs.readFileSync(f, 'utf8');
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-cred-'));
    pki = await ensurePki({ dir: path.join(dir, 'pki'), apiserverIps: [] });
    server = https.createServer(
      {
        cert: read(pki.apiserver.certFile),
        key: read(pki.apiserver.keyFile),
        ca: read(pki.ca.certFile),
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        const s = req.socket as tls.TLSSocket;
        const peer = s.authorized ? s.getPeerCertificate() : undefined;
        const who = req.headers.authorization ?? (peer?.subject ? `${peer.subject.CN}/${peer.subject.O}` : 'anonymous');
        if (who === 'anonymous') {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              kind: 'Status',
              status: 'Failure',
              message: 'Unauthorized',
              reason: 'Unauthorized',
              code: 401,
            }),
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'NamespaceList',
            metadata: { resourceVersion: '7' },
            items: [{ metadata: { name: who } }],
          }),
        );
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const who = async (c: ApiClient) => {
    try {
      return (await c.list('namespaces')).items[0]!.metadata.name;
    } finally {
      c.close();
    }
  };

  it('a client certificate is the user CN, group O; none is 401; a server the CA did not sign is refused', async () => {
    expect(
      await who(
        new ApiClient({
          server: url,
          ca: read(pki.ca.certFile),
          cert: read(pki.admin.certFile),
          key: read(pki.admin.keyFile),
        }),
      ),
    ).toBe('kubernetes-admin/system:masters');
    await expect(who(new ApiClient({ server: url, ca: read(pki.ca.certFile) }))).rejects.toMatchObject({
      status: 401,
      reason: 'Unauthorized',
    });
    // no CA given: the system's roots do not know podwire-ca
    const e = await who(new ApiClient(url)).catch((x) => x);
    expect(e).toBeInstanceOf(ApiClientError);
    expect(e.message).toMatch(/self-signed certificate|unable to (get|verify)/);
  });

  it('a token file is read again when the kubelet replaces it', async () => {
    const tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, 'first\n');
    const c = new ApiClient({ server: url, ca: read(pki.ca.certFile), tokenFile });
    try {
      expect((await c.list('namespaces')).items[0]!.metadata.name).toBe('Bearer first');
      // as the kubelet's atomic writer: a new file renamed over the old one
      fs.writeFileSync(`${tokenFile}.new`, 'second');
      fs.renameSync(`${tokenFile}.new`, tokenFile);
      expect((await c.list('namespaces')).items[0]!.metadata.name).toBe('Bearer second');
      expect(await who(new ApiClient({ server: url, ca: read(pki.ca.certFile), token: 'fixed' }))).toBe('Bearer fixed');
    } finally {
      c.close();
    }
  });

  it('kubeconfig: written with embedded data, read back (and with file references, relative to the file)', async () => {
    const file = path.join(dir, 'admin.kubeconfig');
    writeKubeconfig(file, {
      cluster: 'kubernetes',
      user: 'kubernetes-admin',
      server: url,
      caPem: read(pki.ca.certFile),
      certPem: read(pki.admin.certFile),
      keyPem: read(pki.admin.keyFile),
    });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(read(file)).toContain('current-context: kubernetes-admin@kubernetes');
    expect(await who(new ApiClient(loadKubeconfig(file)))).toBe('kubernetes-admin/system:masters');
    const refs = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: lab`,
      `  cluster: { server: "${url}/", certificate-authority: pki/ca.crt }`,
      'users:',
      '- name: kubelet',
      '  user: { client-certificate: pki/apiserver-kubelet-client.crt, client-key: pki/apiserver-kubelet-client.key }',
      'contexts:',
      '- name: k',
      '  context: { cluster: lab, user: kubelet }',
      'current-context: k',
    ].join('\n');
    expect(await who(new ApiClient(parseKubeconfig(refs, path.join(dir, 'x.kubeconfig'))))).toBe(
      'kube-apiserver-kubelet-client/system:masters',
    );
    expect(() => parseKubeconfig(refs, '/x', 'nope')).toThrow('kubeconfig /x: context "nope" not found');
    expect(kubeconfigYaml({ cluster: 'c', user: 'u', server: 's', caPem: 'CA', token: 't' })).toContain('token: t');
  });

  it('in-cluster: KUBERNETES_SERVICE_HOST/PORT and the projected token and CA', async () => {
    const sa = path.join(dir, 'sa');
    fs.mkdirSync(sa);
    fs.writeFileSync(path.join(sa, 'token'), 'pod-token');
    fs.copyFileSync(pki.ca.certFile, path.join(sa, 'ca.crt'));
    const port = new URL(url).port;
    const cfg = inClusterConfig({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port }, sa);
    expect(cfg.server).toBe(url);
    expect(await who(new ApiClient(cfg))).toBe('Bearer pod-token');
    // CoreDNS and the ingress controller: in a pod with a token, in-cluster; a pod without one (no TLS), plain HTTP; outside, their flag
    expect(
      inClusterOr(
        'https://10.96.0.1:443',
        { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
        sa,
      ),
    ).toMatchObject({
      server: 'https://10.96.0.1:443',
      tokenFile: path.join(sa, 'token'),
    });
    expect(
      inClusterOr(
        'x',
        { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
        path.join(dir, 'none'),
      ),
    ).toEqual({
      server: 'http://10.96.0.1:443',
    });
    expect(inClusterOr('https://10.96.0.1:443', {}, sa)).toEqual({ server: 'https://10.96.0.1:443' });
    expect(() => inClusterConfig({}, sa)).toThrow(
      'unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined',
    );
  });
});
