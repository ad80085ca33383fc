import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import { labUp, waitFor, type LabState, adminKubeconfigPath } from '../../src/lab/index.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { SpdySession } from '../../src/control/streams/spdy/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab } from './helpers.js';

// The real kubectl (Debian's, 1.32) port-forwarding through a 2-node lab's
// API server to the agent of the pod's node, which connects inside the pod's
// network namespace: a few MB over HTTP with its checksum, two connections at
// once, the Service form, the legacy SPDY upgrade, a closed port reported —
// and, since kubectl ≥ 1.28 ends its own session on any reported error, the
// session kept by the agent shown with a SPDY client of our own through the
// same API server.
const prefix = testPrefix('kpf');
let state: LabState;
let client: ApiClient;
let cpNs = '';
let kubeconfig = '';
const children: ResultPromise[] = [];

// the pod serves `seq 1 600000` (4.1 MB): the test knows its checksum without reading the pod
const BLOB = Array.from({ length: 600_000 }, (_, i) => `${i + 1}\n`).join('');
const BLOB_SHA = crypto.createHash('sha256').update(BLOB).digest('hex');

const objects: KubeObject[] = [
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'busybox',
          command: [
            'sh',
            '-c',
            `d=/tmp/${prefix}-www; mkdir -p $d && seq 1 600000 > $d/blob && head -c 20000000 /dev/zero > $d/big && exec httpd -f -p 3000 -h $d`,
          ],
          ports: [{ containerPort: 3000 }],
          // kubectl ends its session on a refused connection: nothing is forwarded before the pod serves
          readinessProbe: { httpGet: { path: '/big', port: 3000 }, periodSeconds: 1 },
        },
      ],
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 3000 }] },
  },
];

/** `kubectl port-forward …` in the control plane's namespace, once it says it listens. */
async function portForward(args: string[], env: Record<string, string> = {}) {
  const child = execa('ip', ['netns', 'exec', cpNs, 'kubectl', '--kubeconfig', kubeconfig, 'port-forward', ...args], {
    reject: false,
    env,
    stdin: 'ignore',
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor('kubectl port-forward listening', 20_000, async () => {
    if (child.exitCode !== null) throw new Error(`kubectl port-forward exited: ${err}`);
    return out.includes('Forwarding from 127.0.0.1');
  });
  return { child, out: () => out, err: () => err };
}

/** curl in the control plane's namespace (where kubectl listens): the body's sha256, or curl's complaint. */
async function fetchSha(port: number, p = '/blob'): Promise<string> {
  const r = await execa(
    'ip',
    ['netns', 'exec', cpNs, 'curl', '-sS', '--max-time', '30', `http://127.0.0.1:${port}${p}`],
    {
      reject: false,
      encoding: 'buffer',
      stripFinalNewline: false,
    },
  );
  if (r.exitCode !== 0) return `curl exit ${r.exitCode}: ${Buffer.from(r.stderr).toString()}`;
  return crypto.createHash('sha256').update(r.stdout).digest('hex');
}

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT, controlPlane: true });
  const cp = state.plan.controlPlane;
  cpNs = cp.ns;
  kubeconfig = adminKubeconfigPath(state.plan);
  client = new ApiClient(`unix:${cp.socket}`);
  for (const o of objects) await client.create(o);
  await waitFor('the web pod ready', 30_000, async () =>
    ((await client.get('pods', 'default', 'web'))?.status?.conditions ?? []).some(
      (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
    ),
  );
  // and its httpd answers on the pod's own loopback, where the agent connects (Ready is a probe of the pod IP)
  const podNs = fs.readdirSync('/run/netns').find((n) => n.startsWith(prefix) && n.includes('pod-web'))!;
  await waitFor('the blob on the pod’s loopback', 30_000, async () => {
    const r = await execa('ip', ['netns', 'exec', podNs, 'curl', '-sS', 'http://127.0.0.1:3000/blob'], {
      reject: false,
      encoding: 'buffer',
      stripFinalNewline: false,
    });
    return r.exitCode === 0 && crypto.createHash('sha256').update(r.stdout).digest('hex') === BLOB_SHA;
  });
}, 90_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.allSettled(children);
  client?.close();
  await stopLab(prefix);
}, 60_000);

describe('kubectl port-forward', () => {
  it('pod/NAME: a 4.1 MB HTTP transfer with its checksum, then two connections at once', async () => {
    // WebSocket (KEP-4006): the lab's API server says v1.30, so the gcloud kubectl picks its 1.30, where the tunnel is opt-in
    const pf = await portForward(['pod/web', '18080:3000'], { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'true' });
    expect(await fetchSha(18080), pf.err()).toBe(BLOB_SHA);
    const both = await Promise.all([fetchSha(18080), fetchSha(18080)]);
    expect(both).toEqual([BLOB_SHA, BLOB_SHA]);
    expect(pf.out()).toContain('Handling connection for 18080');
    expect(pf.child.exitCode).toBeNull(); // still forwarding
  });

  it('svc/NAME: kubectl picks the Service’s pod and maps port 80 to its targetPort 3000', async () => {
    await portForward(['svc/web', '18081:80']);
    expect(await fetchSha(18081)).toBe(BLOB_SHA);
  });

  it('the legacy upgrade (Upgrade: SPDY/3.1) carries the same bytes', async () => {
    await portForward(['pod/web', '18082:3000'], { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' });
    expect(await fetchSha(18082)).toBe(BLOB_SHA);
    const log =
      fs.readFileSync(path.join(state.plan.nodes[0].stateDir, 'agent.log'), 'utf8') +
      fs.readFileSync(path.join(state.plan.nodes[1].stateDir, 'agent.log'), 'utf8');
    expect(log).toContain('port-forward default/web: session opened (WebSocket)');
    expect(log).toContain('port-forward default/web: session opened (SPDY/3.1)');
  });

  it('a closed port is reported as kubectl shows it (and kubectl then ends its session)', async () => {
    const pf = await portForward(['pod/web', '18083:81']);
    const r = await execa('ip', ['netns', 'exec', cpNs, 'curl', '-sS', '--max-time', '10', 'http://127.0.0.1:18083/'], {
      reject: false,
    });
    expect(r.exitCode).not.toBe(0);
    await waitFor('kubectl to report', 10_000, async () =>
      pf.err().includes('an error occurred forwarding 18083 -> 81'),
    );
    expect(pf.err()).toMatch(
      /error forwarding port 81 to pod \S+, uid : failed to execute portforward in network namespace "\/run\/netns\/\S+": failed to connect to localhost:81 inside namespace "\S+", IPv4: dial tcp4 127\.0\.0\.1:81: connect: connection refused/,
    );
    await pf.child;
    expect(pf.err()).toContain('lost connection to pod');
  });

  it('the agent keeps the session after a closed port: the next connection on it works', async () => {
    // SPDY/3.1 through the API server (its unix socket: the same server, the same upgrade path)
    const cp = state.plan.controlPlane;
    const conn = await new Promise<net.Socket>((resolve, reject) => {
      const c = net.connect(cp.socket);
      c.once('error', reject);
      c.once('connect', () => resolve(c));
    });
    conn.write(
      `POST /api/v1/namespaces/default/pods/web/portforward HTTP/1.1\r\nHost: ${cp.ip}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\nContent-Length: 0\r\n\r\n`,
    );
    const head = await new Promise<Buffer>((resolve) => {
      let buf = Buffer.alloc(0);
      const on = (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        conn.off('data', on);
        conn.pause();
        resolve(buf);
      };
      conn.on('data', on);
    });
    expect(head.toString()).toMatch(/^HTTP\/1\.1 101/);
    const rest = head.subarray(head.indexOf('\r\n\r\n') + 4);
    const session = new SpdySession(conn, { isServer: false });
    if (rest.length) session.receive(rest);
    conn.resume();
    const pair = (port: number, id: string) => {
      const error = session.openStream({ streamtype: 'error', port: String(port), requestid: id });
      error.end();
      const data = session.openStream({ streamtype: 'data', port: String(port), requestid: id });
      return { error, data };
    };
    const text = (s: NodeJS.ReadableStream) =>
      new Promise<string>((resolve) => {
        let t = '';
        s.on('data', (d: Buffer) => (t += d.toString()));
        s.once('end', () => resolve(t));
      });
    const bad = pair(81, '0');
    bad.data.resume();
    expect(await text(bad.error)).toMatch(/^error forwarding port 81 to pod .*connection refused/);
    const good = pair(3000, '1');
    const body = text(good.data);
    good.data.end('GET /blob HTTP/1.0\r\n\r\n');
    const resp = await body;
    expect(
      crypto
        .createHash('sha256')
        .update(resp.slice(resp.indexOf('\r\n\r\n') + 4))
        .digest('hex'),
    ).toBe(BLOB_SHA);
    expect(await text(good.error)).toBe('');
    expect(session.isClosed).toBe(false);
    session.goAway();
    conn.destroy();
  });

  it('a client gone mid-stream leaves no dialer process in the pod’s namespace', async () => {
    // the earlier tests' kubectl sessions end first: their dialers go with them
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.allSettled(children);
    const pf = await portForward(['pod/web', '18084:3000']);
    expect(await fetchSha(18084)).toBe(BLOB_SHA);
    const podNs = fs.readdirSync('/run/netns').find((n) => n.startsWith(prefix) && n.includes('pod-web'));
    expect(podNs).toBeDefined();
    const inode = fs.statSync(`/run/netns/${podNs}`).ino;
    const helpers = () =>
      fs.readdirSync('/proc').filter((pid) => {
        if (!/^\d+$/.test(pid)) return false;
        try {
          return (
            fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('process.send({ id: m.id') &&
            fs.statSync(`/proc/${pid}/ns/net`).ino === inode
          );
        } catch {
          return false;
        }
      });
    await waitFor('one dialer, this session’s', 10_000, async () => helpers().length === 1);
    // a 20 MB transfer stalled by a reader that waits is under way when kubectl is killed
    const slow = execa(
      'ip',
      ['netns', 'exec', cpNs, 'sh', '-c', 'curl -sS http://127.0.0.1:18084/big | (sleep 4; wc -c)'],
      { reject: false },
    );
    await new Promise((r) => setTimeout(r, 1500));
    pf.child.kill('SIGKILL');
    const r = await slow;
    expect(Number(r.stdout.trim())).toBeLessThan(20_000_000); // cut mid-stream
    await waitFor('the dialer gone', 10_000, async () => helpers().length === 0);
  });
});
