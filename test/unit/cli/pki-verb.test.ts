import { describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildProgram, registrarsFor } from '../../../src/cli/main.js';
import type { CliIo } from '../../../src/cli/verbs/deps.js';
import { loadKubeconfig } from '../../../src/control/client/index.js';

// `podwire pki` as compose's apiserver.sh runs it (the real openssl): the
// PKI and a kubeconfig for the admin and each node, kept on a second run.
async function podwire(...args: string[]): Promise<string> {
  const out: string[] = [];
  const io: CliIo = {
    out: (c) => void out.push(typeof c === 'string' ? c : Buffer.from(c).toString()),
    err: (t) => void out.push(t),
    isTTY: () => false,
    onOutError: () => {},
  };
  const argv = ['node', 'podwire', ...args];
  await (await buildProgram(io, await registrarsFor(argv))).parseAsync(argv);
  return out.join('');
}

describe('podwire pki', () => {
  it('makes the PKI and admin/node kubeconfigs naming --apiserver-url; a second run keeps them', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pw-pkiverb-')), 'pki');
    try {
      const args = ['pki', '--dir', dir, '--apiserver-url', 'https://172.28.0.2:6443', '--apiserver-ip', '172.28.0.2'];
      expect(await podwire(...args, '--node', 'node1,node2')).toMatch(
        /made ca, apiserver, admin, apiserver-kubelet-client, node-node1, node-node2, sa; kubeconfigs admin.kubeconfig, node-node1.kubeconfig, node-node2.kubeconfig/,
      );
      const node = loadKubeconfig(path.join(dir, 'node-node2.kubeconfig'));
      expect(node.server).toBe('https://172.28.0.2:6443');
      expect(new crypto.X509Certificate(node.cert!).subject).toContain('CN=system:node:node2');
      expect(await podwire(...args, '--node', 'node1', '--node', 'node2')).toContain('all kept');
    } finally {
      fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  }, 30_000);
});
