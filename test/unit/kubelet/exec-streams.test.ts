import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import net, { type AddressInfo } from 'node:net';
import { serveStreams } from '../../../src/kubelet/streams/server.js';
import { sessionMembers } from '../../../src/kubelet/streams/exec.js';
import { streamUpgradeHandler } from '../../../src/control/api/streams/upgrade-proxy.js';
import { FileStore } from '../../../src/control/store/file-store.js';
import { SpdySession } from '../../../src/control/streams/index.js';

// The agent's exec endpoint and the API server's proxy in front of it, with
// real processes: the "container" is this test's own process, so nsenter
// --all enters namespaces it already has (root needed, as for the agent).

let kubelet: http.Server;
let api: http.Server;
let store: FileStore;
let dir: string;
let apiPort = 0;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests run nsenter: run them as root');
  kubelet = http.createServer((_q, s) => s.writeHead(404).end());
  serveStreams(kubelet, {
    exec: (ns, pod, container) =>
      container === 'app'
        ? { status: 200, body: { container, pid: process.pid, env: { PATH: '/usr/bin:/bin', ONLY: 'container' } } }
        : { status: 400, body: { error: `container ${container} is not valid for pod ${pod}` } },
    log: () => {},
  });
  await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', r));
  const kport = (kubelet.address() as AddressInfo).port;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-exec-'));
  store = FileStore.open(dir);
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'u1' },
    spec: { nodeName: 'n1', containers: [{ name: 'app' }, { name: 'side' }] },
  };
  await store.create('core/pods/default/web', JSON.stringify(pod));
  await store.create(
    'core/pods/default/solo',
    JSON.stringify({
      ...pod,
      metadata: { ...pod.metadata, name: 'solo' },
      spec: { ...pod.spec, containers: [{ name: 'app' }] },
    }),
  );
  await store.create(
    'core/pods/default/lost',
    JSON.stringify({ ...pod, metadata: { ...pod.metadata, name: 'lost' }, spec: { ...pod.spec, nodeName: 'n2' } }),
  );
  const node = (name: string, ip: string, port: number) =>
    JSON.stringify({
      kind: 'Node',
      metadata: { name },
      status: {
        addresses: [{ type: 'InternalIP', address: ip }],
        daemonEndpoints: { kubeletEndpoint: { Port: port } },
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    });
  await store.create('core/nodes/n1', node('n1', '127.0.0.1', kport));
  await store.create('core/nodes/n2', node('n2', '127.0.0.1', 1)); // nothing listens on port 1
  const handler = streamUpgradeHandler();
  api = http.createServer((_q, s) => s.writeHead(404).end());
  api.on('upgrade', (req, socket, head) => handler(req, socket, head, store));
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiPort = (api.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => api?.close(r));
  await new Promise((r) => kubelet?.close(r));
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Result {
  out: Record<number, string>;
  status?: Record<string, any>;
  code?: number;
  error?: string;
}

function execUrl(pod: string, q: string): string {
  return `ws://127.0.0.1:${apiPort}/api/v1/namespaces/default/pods/${pod}/exec?${q}`;
}

function run(url: string, protocols: string[], input?: string, onOpen?: (ws: WebSocket) => void): Promise<Result> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocols);
    const r: Result = { out: {} };
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ ...r, code: res.statusCode, status: JSON.parse(body) }));
    });
    ws.on('open', () => {
      if (input !== undefined) {
        ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(input)]));
        ws.send(Buffer.from([255, 0]));
      }
      onOpen?.(ws);
    });
    ws.on('message', (m: Buffer) => {
      const ch = m[0];
      const data = m.subarray(1).toString();
      if (ch === 3) r.status = JSON.parse(data);
      else r.out[ch] = (r.out[ch] ?? '') + data;
    });
    ws.on('error', (e) => (r.error = e.message));
    ws.on('close', () => resolve(r));
  });
}

const V5 = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

describe('exec through the API server to the agent', () => {
  it('stdout, stderr and the exit code in the Status (v5)', async () => {
    const cmd = ['sh', '-c', 'echo out; echo err >&2; echo $ONLY; exit 3'].map(
      (c) => `command=${encodeURIComponent(c)}`,
    );
    const r = await run(execUrl('web', `container=app&stdout=true&stderr=true&${cmd.join('&')}`), V5);
    expect(r.out[1]).toBe('out\ncontainer\n');
    expect(r.out[2]).toBe('err\n');
    expect(r.status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode' });
    expect(r.status!.details.causes).toEqual([{ reason: 'ExitCode', message: '3' }]);
  });

  it('stdin is piped and ended by the v5 close signal; the only container needs no name', async () => {
    const r = await run(execUrl('solo', 'stdin=true&stdout=true&command=wc&command=-c'), V5, 'x'.repeat(100_000));
    expect(r.out[1].trim()).toBe('100000');
    expect(r.status).toEqual({ metadata: {}, status: 'Success' });
  });

  it('v4 works alike; 127 for a missing command', async () => {
    const r = await run(execUrl('solo', 'stdout=true&stderr=true&command=no-such-command-here'), ['v4.channel.k8s.io']);
    expect(r.status!.details.causes[0].message).toBe('127');
  });

  it('refuses as kube-apiserver does: no such pod, no such container, no container named, agent unreachable', async () => {
    const missing = await run(execUrl('nope', 'stdout=true&command=true'), V5);
    expect(missing.code).toBe(404);
    expect(missing.status).toMatchObject({ reason: 'NotFound', message: 'pods "nope" not found' });
    const bad = await run(execUrl('web', 'container=db&stdout=true&command=true'), V5);
    expect(bad.code).toBe(400);
    expect(bad.status!.message).toBe('container db is not valid for pod web');
    const unnamed = await run(execUrl('web', 'stdout=true&command=true'), V5);
    expect(unnamed.status!.message).toBe('a container name must be specified for pod web, choose one of: [app side]');
    const t0 = Date.now();
    const lost = await run(execUrl('lost', 'container=app&stdout=true&command=true'), V5);
    expect(lost.code).toBe(500);
    expect(lost.status!.message).toMatch(/^error dialing backend: dial tcp 127.0.0.1:1: .*ECONNREFUSED/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a client that goes away mid-stream leaves no process behind', async () => {
    const n = 500_000 + Math.floor(Math.random() * 400_000);
    const marker = `sleep\0${n}`;
    let sid = 0;
    await run(
      execUrl(
        'solo',
        `stdout=true&command=sh&command=-c&command=${encodeURIComponent(`echo $$; sleep ${n} & exec sleep ${n + 1}`)}`,
      ),
      V5,
      undefined,
      (ws) =>
        ws.on('message', (m: Buffer) => {
          if (m[0] === 1 && m.length > 1) {
            sid = Number(m.subarray(1).toString().trim());
            ws.terminate();
          }
        }),
    );
    expect(sid).toBeGreaterThan(0);
    // both sleeps (the one in the background too) must be gone
    const deadline = Date.now() + 10_000; // (gone eventually; a loaded machine takes its time)
    let left: string[] = [];
    do {
      await new Promise((r) => setTimeout(r, 100));
      left = fs
        .readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            const c = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
            return c.startsWith(marker);
          } catch {
            return false;
          }
        });
    } while (left.length && Date.now() < deadline);
    expect(left).toEqual([]);
    expect(sessionMembers(sid)).toEqual([]);
  });
});

/** kubectl's SPDY fallback, as client-go's SPDY executor speaks it: Upgrade: SPDY/3.1, a stream per channel. */
async function runSpdy(
  pod: string,
  q: string,
  streams: string[],
  input?: string,
  versions = 'v4.channel.k8s.io',
): Promise<{ head: string; out: Record<string, string>; status: string }> {
  const sock = net.connect(apiPort, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.write(
    `POST /api/v1/namespaces/default/pods/${pod}/exec?${q} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${versions}\r\n\r\n`,
  );
  let buf = Buffer.alloc(0);
  while (!buf.includes('\r\n\r\n'))
    buf = Buffer.concat([buf, (await new Promise((r) => sock.once('data', r))) as Buffer]);
  const end = buf.indexOf('\r\n\r\n') + 4;
  const head = buf.subarray(0, end).toString();
  const out: Record<string, string> = {};
  if (!head.startsWith('HTTP/1.1 101')) {
    sock.destroy();
    return { head: head + buf.subarray(end).toString(), out, status: '' };
  }
  const session = new SpdySession(sock, { isServer: false });
  if (buf.length > end) session.receive(buf.subarray(end));
  const done: Promise<void>[] = [];
  // as client-go: every stream opened (each answered) before any is written
  const opened = [];
  for (const type of streams) {
    const s = session.openStream({ streamtype: type });
    await s.replied;
    out[type] = '';
    done.push(
      new Promise((r) => {
        s.on('data', (d: Buffer) => (out[type] += d.toString()));
        s.on('end', r);
        s.on('close', r);
      }),
    );
    opened.push({ type, s });
  }
  for (const { type, s } of opened) {
    if (type === 'stdin') s.end(input ?? '');
    else if (type !== 'resize') s.end();
  }
  await Promise.all(done);
  session.destroy();
  return { head, out, status: out.error };
}

describe('exec over SPDY/3.1 (kubectl’s fallback)', () => {
  it('stdin to its end of file, stdout and stderr apart, the exit code in the v4 Status', async () => {
    const cmd = ['sh', '-c', 'wc -c; echo err >&2; exit 7'].map((c) => `command=${encodeURIComponent(c)}`);
    const r = await runSpdy(
      'solo',
      `stdin=true&stdout=true&stderr=true&${cmd.join('&')}`,
      ['error', 'stdin', 'stdout', 'stderr'],
      'y'.repeat(70_000),
      'v4.channel.k8s.io,v3.channel.k8s.io,v2.channel.k8s.io,channel.k8s.io',
    );
    expect(r.head).toMatch(/X-Stream-Protocol-Version: v4.channel.k8s.io/);
    expect(r.out.stdout.trim()).toBe('70000');
    expect(r.out.stderr).toBe('err\n');
    const status = JSON.parse(r.status);
    expect(status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode' });
    expect(status.details.causes).toEqual([{ reason: 'ExitCode', message: '7' }]);
  });

  it('Success on exit 0; a v2 client gets no Status text on success; an unknown version is refused', async () => {
    const ok = await runSpdy('solo', 'stdout=true&command=true', ['error', 'stdout']);
    expect(JSON.parse(ok.status)).toEqual({ metadata: {}, status: 'Success' });
    const v2 = await runSpdy(
      'solo',
      'stdout=true&command=echo&command=hi',
      ['error', 'stdout'],
      undefined,
      'v2.channel.k8s.io',
    );
    expect(v2.out.stdout).toBe('hi\n');
    expect(v2.status).toBe('');
    const bad = await runSpdy('solo', 'stdout=true&command=true', ['error'], undefined, 'v9.channel.k8s.io');
    expect(bad.head).toMatch(/^HTTP\/1.1 403[^]*unable to negotiate protocol/);
  });
});
