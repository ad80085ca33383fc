import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { execa, type ResultPromise } from 'execa';
import { labUp, waitFor, readLabState, CLI_ENTRY, labPki, type LabState } from '../../src/lab/index.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { callAgent } from '../../src/agent/control-server.js';
import { agentSocketPath } from '../../src/agent/agent.js';
import { compileService, lbFlowHash, PROTO_TCP } from '../../src/lb/index.js';
import { parseIpv4 } from '../../src/packet/index.js';
import { STATE_ROOT, FIXTURES, requireRoot, testPrefix, stopLab, inNs, startInNs, lastJson } from './helpers.js';

// Services end to end: a 3-node lab with its control plane and the outside
// (client 172.28.0.100, www 172.28.0.200, the cloud load balancer), real
// traffic from pods on node1 and node3 and from the outside client, through
// the agents' Service stage. One lab for the whole file (fixtures in
// fixtures/services/): cases only add Services of their own or change the
// ones they name.
const prefix = testPrefix('svc');
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const SVC_FIXTURES = path.join(FIXTURES, 'services');
const NODES = ['node1', 'node2', 'node3'];
const NODE_IP: Record<string, string> = { node1: '172.28.0.11', node2: '172.28.0.12', node3: '172.28.0.13' };
let state: LabState;
let api: ApiClient;
const held: Held[] = [];

const env = { PODWIRE_STATE_ROOT: STATE_ROOT, PODWIRE_SERVER: '' };
const podwire = (...args: string[]) =>
  execa(process.execPath, [CLI_ENTRY, '--lab', prefix, ...args], { env, reject: false, timeout: 60_000 });
const docs = (file: string) =>
  parseAllDocuments(fs.readFileSync(file, 'utf8'))
    .map((d) => d.toJS())
    .filter(Boolean) as KubeObject[];
const ready = (p: KubeObject) =>
  p.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';
const podNs = (name: string, ns = 'default') =>
  ns === 'default' ? `${prefix}-pod-${name}` : `${prefix}-pod-${name}.${ns}`;
const outsideNs = () => state.plan.outside.client.ns;
const podIp = async (name: string, ns = 'default') => (await api.get('pods', ns, name)).status.podIP as string;
const clusterIp = async (svc: string, ns = 'default') => (await api.get('services', ns, svc)).spec.clusterIP as string;

// ------------------------------------------------------------------ traffic

/** One answer of podwire's nginx (or a generic listener's HTTP page): who answered, and the source it saw. */
interface Page {
  pod: string;
  node: string;
  srcIp: string;
}
const PAGE = /^\S+ on pod [^/\s]+\/(\S+) \(\S+, node (\S+)\): you came from ([\d.]+):\d+$/;
function page(text: string): Page {
  const m = PAGE.exec(text.trim());
  if (!m) throw new Error(`not an identity page: ${JSON.stringify(text.slice(0, 200))}`);
  return { pod: m[1], node: m[2], srcIp: m[3] };
}

async function curl(ns: string, url: string, ...extra: string[]) {
  const t0 = performance.now();
  const r = await inNs(ns, ['curl', '-sS', '--max-time', '3', ...extra, url]);
  return { exitCode: r.exitCode, body: String(r.stdout), stderr: String(r.stderr), ms: performance.now() - t0 };
}

async function get(ns: string, url: string, ...extra: string[]): Promise<Page> {
  const r = await curl(ns, url, ...extra);
  expect(r.exitCode, `curl ${url} from ${ns}: ${r.stderr}`).toBe(0);
  return page(r.body);
}

/** `n` requests in a row from one namespace, each a new connection (curl per request). */
async function requests(ns: string, url: string, n: number): Promise<Page[]> {
  const r = await inNs(ns, [
    'sh',
    '-c',
    'for i in $(seq "$2"); do curl -sS --max-time 3 "$1" || echo "FAILED $?"; done',
    'sh',
    url,
    String(n),
  ]);
  const lines = String(r.stdout).split('\n').filter(Boolean);
  expect(lines.length, `${String(r.stdout)}${String(r.stderr)}`).toBe(n);
  return lines.map(page);
}

/** One request per source port, in order (fixtures/services/http-from-ports.mjs): the same ports give the same 5-tuples. */
async function fromPorts(ns: string, url: string, ports: number[]): Promise<Page[]> {
  const r = await inNs(ns, [
    process.execPath,
    path.join(SVC_FIXTURES, 'http-from-ports.mjs'),
    url,
    ...ports.map(String),
  ]);
  const answers = String(r.stdout)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  expect(answers.length, String(r.stderr)).toBe(ports.length);
  // the client's close is the passive one, but its socket leaves LAST-ACK only when the server's ACK is
  // back; on a loaded machine that can be after this returns. A conntrack flush then, or the same ports
  // bound again, would fail (EADDRINUSE): wait until none of them is held
  await waitFor(`ports ${ports[0]}… in ${ns} to be closed`, 10_000, async () => {
    const ss = await inNs(ns, ['ss', '-Htan']);
    return !String(ss.stdout)
      .split('\n')
      .some((l) => ports.some((p) => l.includes(`:${p} `)));
  });
  return answers.map((a) => {
    if (a.error) throw new Error(`GET ${url} from port ${a.port} in ${ns}: ${a.error}`);
    return page(a.body);
  });
}

/** A UDP datagram from a pod; the answer, or the socket's error (ICMP port unreachable is ECONNREFUSED). */
async function udpAsk(ns: string, host: string, port: number): Promise<{ reply?: string; error?: string; ms: number }> {
  const script =
    "const s=require('dgram').createSocket('udp4');const t0=performance.now();const done=(o)=>{console.log(JSON.stringify({...o,ms:performance.now()-t0}));process.exit(0)};" +
    "s.on('message',m=>done({reply:String(m)}));s.on('error',e=>done({error:e.code}));" +
    `s.connect(${port},'${host}',()=>s.send('hostname'));setTimeout(()=>done({error:'timeout'}),3000)`;
  return lastJson((await inNs(ns, [process.execPath, '-e', script])).stdout);
}

/**
 * One TCP connection held open from a pod (fixtures/services/tcp-hold.mjs)
 * to a generic listener: it sends an identity line (the backend), then
 * echoes every line. The test sends on the same connection across events.
 */
class Held {
  readonly lines: string[] = [];
  local = '';
  closed: { error: string | null } | null = null;
  private constructor(private readonly child: ResultPromise) {}

  static async open(ns: string, host: string, port: number): Promise<Held> {
    const child = execa(
      'ip',
      ['netns', 'exec', ns, process.execPath, path.join(SVC_FIXTURES, 'tcp-hold.mjs'), host, String(port)],
      { reject: false, buffer: false, timeout: 180_000 },
    );
    const h = new Held(child);
    held.push(h);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      for (let i = out.indexOf('\n'); i >= 0; i = out.indexOf('\n')) {
        const e = JSON.parse(out.slice(0, i));
        out = out.slice(i + 1);
        if (e.event === 'connected') h.local = e.local;
        else if (e.event === 'line') h.lines.push(e.text);
        else if (e.event === 'closed') h.closed = { error: e.error };
      }
    });
    await waitFor(
      `a connection to ${host}:${port} and its identity line`,
      5_000,
      () => h.lines.length > 0 || h.closed !== null,
    );
    if (!h.lines.length)
      throw new Error(`connection to ${host}:${port} from ${ns} closed at once (${h.closed?.error})`);
    return h;
  }

  get backend(): string {
    return /^\S+ on pod [^/\s]+\/(\S+) /.exec(this.lines[0])?.[1] ?? `(not an identity line: ${this.lines[0]})`;
  }

  get localPort(): number {
    return Number(this.local.split(':')[1]);
  }

  /** Send a line; true once it came back, false if the connection ended first. */
  async echo(text: string, timeoutMs = 5_000): Promise<boolean> {
    const from = this.lines.length;
    this.child.stdin!.write(`${text}\n`);
    await waitFor(
      `"${text}" echoed by ${this.backend}`,
      timeoutMs,
      () => this.lines.slice(from).includes(text) || this.closed !== null,
    );
    return this.lines.slice(from).includes(text);
  }

  async end(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    await this.child;
  }
}

// -------------------------------------------------------------- the agents

const nodeOf = (name: string) => state.plan.nodes.find((n) => n.name === name)!;
async function agent(node: string, route: string, method = 'GET', body?: unknown): Promise<any> {
  const r = await callAgent(agentSocketPath(nodeOf(node).stateDir), method, route, body, 5_000);
  if (r.status !== 200) throw new Error(`agent ${node} ${method} ${route}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
const drops = async (node: string): Promise<Record<string, number>> => agent(node, '/drops');
const dropped = async (node: string, reason: string): Promise<number> => (await drops(node))[reason] ?? 0;

/** The frontends of one Service in a node's agent (`/lb/service`), [] if it has none. */
async function frontends(node: string, svc: string, ns = 'default'): Promise<any[]> {
  const st = await agent(node, `/lb/service?name=${encodeURIComponent(`${ns}/${svc}`)}`);
  return st.services.find((s: { service: string }) => s.service === `${ns}/${svc}`)?.frontends ?? [];
}
/** Names of the backends new flows to a Service's ClusterIP may go to, on one node. */
async function usable(node: string, svc: string, ns = 'default'): Promise<string[]> {
  const fe = (await frontends(node, svc, ns)).find((f) => f.type === 'ClusterIP');
  return (fe?.backends ?? [])
    .filter((b: { usable: boolean }) => b.usable)
    .map((b: { name: string }) => b.name)
    .sort();
}
async function waitUsable(svc: string, want: string[], ns = 'default', timeoutMs = 20_000): Promise<void> {
  await waitFor(`${ns}/${svc} to have backends ${want.join(', ')} on every node`, timeoutMs, async () => {
    for (const n of NODES)
      if (JSON.stringify(await usable(n, svc, ns)) !== JSON.stringify([...want].sort())) return false;
    return true;
  });
}
async function healthy(): Promise<Record<string, { pid: number; internalErrors: number }>> {
  const out: Record<string, { pid: number; internalErrors: number }> = {};
  for (const n of NODES) {
    const s = await agent(n, '/status');
    out[n] = { pid: s.pid, internalErrors: s.internalErrors };
  }
  return out;
}
const agentLog = (node: string) => fs.readFileSync(path.join(nodeOf(node).stateDir, 'agent.log'), 'utf8');

// --------------------------------------------------------------- the lab

beforeAll(async () => {
  requireRoot();
  for (const tool of ['curl', 'ip']) {
    const r = await execa('sh', ['-c', 'command -v "$1"', 'sh', tool], { reject: false });
    if (r.exitCode !== 0) throw new Error(`services.test.ts needs ${tool} on PATH (scripts/setup installs it)`);
  }
  state = await labUp({ prefix, nodes: 3, stateRoot: STATE_ROOT, controlPlane: true, outside: true });
  api = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  for (const d of [
    ...docs(path.join(SVC_FIXTURES, 'cluster.yaml')),
    ...docs(path.join(SVC_FIXTURES, 'seed-workloads.yaml')),
  ])
    await api.create(d);
  await waitFor('every pod Ready', 60_000, async () => {
    const pods = (await api.list('pods')).items;
    return pods.length === 12 && pods.every(ready);
  });
  await waitUsable('web-rr', ['web-1', 'web-2', 'web-3']);
  await waitUsable('echo', ['echo-1', 'echo-2', 'echo-3']);
}, 150_000);

afterAll(async () => {
  await Promise.all(held.map((h) => h.end()));
  api?.close();
  await stopLab(prefix);
}, 60_000);

// ------------------------------------------------------------------ cases

describe('three backends share the load by the chosen scheduler', () => {
  it('the annotation picks the scheduler; without one the agent’s default (random)', async () => {
    for (const [svc, scheduler] of [
      ['web-rr', 'rr'],
      ['web-maglev', 'maglev'],
      ['web-random', 'random'],
    ]) {
      for (const n of NODES)
        expect(
          (await frontends(n, svc)).map((f) => [f.type, f.scheduler]),
          `${svc} on ${n}`,
        ).toEqual([['ClusterIP', scheduler], ...(svc === 'web-maglev' ? [['ExternalIP', 'maglev']] : [])]);
    }
  });

  it('rr: from node1 and from node3, an exact rotation through all three', async () => {
    const vip = await clusterIp('web-rr');
    for (const client of ['client-1', 'client-3']) {
      const seq = (await requests(podNs(client), `http://${vip}/`, 9)).map((p) => p.pod);
      expect(new Set(seq.slice(0, 3)), client).toEqual(new Set(['web-1', 'web-2', 'web-3']));
      expect(seq.slice(3), client).toEqual([...seq.slice(0, 3), ...seq.slice(0, 3)]);
    }
  });

  it('random: 60 requests spread roughly evenly, in no fixed order', async () => {
    const seq = (await requests(podNs('client-1'), `http://${await clusterIp('web-random')}/`, 60)).map((p) => p.pod);
    const counts = ['web-1', 'web-2', 'web-3'].map((b) => seq.filter((x) => x === b).length);
    expect(counts.reduce((a, b) => a + b)).toBe(60);
    // chi-square against 20 each, 2 degrees of freedom: 18.4 is p = 0.0001
    const chi2 = counts.reduce((s, c) => s + (c - 20) ** 2 / 20, 0);
    expect(chi2, `counts ${counts}`).toBeLessThan(18.4);
    const rotation = seq.every((x, i) => i < 3 || x === seq[i - 3]);
    expect(rotation, seq.join(' ')).toBe(false);
  });

  it('maglev: the same 5-tuple gets the same backend (also after conntrack is flushed), the one the Maglev table names', async () => {
    const vip = await clusterIp('web-maglev');
    const src = await podIp('client-1');
    const ports = Array.from({ length: 12 }, (_, i) => 40101 + i);
    const first = (await fromPorts(podNs('client-1'), `http://${vip}/`, ports)).map((p) => p.pod);
    // a new flow with the same 5-tuple, not the old conntrack entry, must choose again
    const { flushed } = await agent('node1', '/conntrack/flush', 'POST', { src, dst: vip });
    expect(flushed).toBeGreaterThanOrEqual(ports.length);
    const again = (await fromPorts(podNs('client-1'), `http://${vip}/`, ports)).map((p) => p.pod);
    expect(again).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(1);
    // exactly what src/lb's Maglev picks for these flows (the agent's table size is the default 65537)
    const svc = await api.get('services', 'default', 'web-maglev');
    const slices = (
      await api.list('endpointslices', { namespace: 'default', labelSelector: 'kubernetes.io/service-name=web-maglev' })
    ).items;
    const fe = compileService(
      svc,
      slices,
      { name: 'node1' },
      { defaultScheduler: 'random', maglevTableSize: 65537 },
    ).frontends.find((f) => f.type === 'ClusterIP')!;
    const expected = ports.map(
      (p) =>
        fe.backends[fe.scheduler.pick(lbFlowHash(PROTO_TCP, parseIpv4(src), p, parseIpv4(vip), 80), parseIpv4(src))]
          .name,
    );
    expect(first).toEqual(expected);
  });

  it('maglev: a flow entering at any node (the external IP routed through node1, node2, node3) lands on the same backend', async () => {
    const ports = [40201, 40202, 40203, 40204, 40205, 40206];
    const byNode: Record<string, string[]> = {};
    try {
      for (const n of NODES) {
        await inNs(outsideNs(), ['ip', 'route', 'replace', '172.28.0.61/32', 'via', NODE_IP[n]]);
        const pages = await fromPorts(outsideNs(), 'http://172.28.0.61/', ports);
        // ETP Cluster: the backend sees the entry node's SNAT address
        for (const p of pages) expect(p.srcIp).toBe(`10.244.${n.slice(-1)}.254`);
        byNode[n] = pages.map((p) => p.pod);
      }
    } finally {
      await inNs(outsideNs(), ['ip', 'route', 'del', '172.28.0.61/32']);
    }
    expect(byNode.node2).toEqual(byNode.node1);
    expect(byNode.node3).toEqual(byNode.node1);
    expect(new Set(byNode.node1).size).toBeGreaterThan(1);
  });

  it('sessionAffinity ClientIP: 15 requests in a row stick; after timeoutSeconds (5) without a new connection the choice is made again', async () => {
    const url = `http://${await clusterIp('sticky')}/`;
    const seq = (await requests(podNs('client-1'), url, 15)).map((p) => p.pod);
    expect(new Set(seq).size, seq.join(' ')).toBe(1);
    // The agent's affinity timer is what is tested, and every new connection
    // renews it: so the test lets the time pass idle, then asks once.
    const idle = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await idle(3_500);
    expect((await get(podNs('client-1'), url)).pod, 'after 3.5 s idle').toBe(seq[0]);
    await idle(5_500);
    // rr underneath: the next pick is the backend after the one it stuck to
    expect((await get(podNs('client-1'), url)).pod, 'after 5.5 s idle').not.toBe(seq[0]);
  });
});

describe('NodePort from the outside client and externalTrafficPolicy', () => {
  it('Local: each node answers with its own pod, which sees the client’s address 172.28.0.100', async () => {
    for (const [n, pod] of [
      ['node1', 'web-1'],
      ['node2', 'web-2'],
    ]) {
      const p = await get(outsideNs(), `http://${NODE_IP[n]}:30101/`);
      expect([p.pod, p.node, p.srcIp]).toEqual([pod, n, '172.28.0.100']);
    }
  });

  it('Cluster: every node answers, and the pod sees that node’s SNAT address 10.244.N.254', async () => {
    for (const n of NODES) {
      const p = await get(outsideNs(), `http://${NODE_IP[n]}:30102/`);
      expect(['web-1', 'web-2']).toContain(p.pod);
      expect(p.srcIp).toBe(`10.244.${n.slice(-1)}.254`);
    }
  });

  it('Local on a node without a local pod (node3): no answer at all, and node3 counts etp-local-no-endpoint', async () => {
    const before = await dropped('node3', 'etp-local-no-endpoint');
    const r = await curl(outsideNs(), `http://${NODE_IP.node3}:30101/`, '--max-time', '2');
    expect(r.exitCode, r.stderr).toBe(28); // a timeout: neither an answer nor a reset
    expect(await dropped('node3', 'etp-local-no-endpoint')).toBeGreaterThan(before);
  });

  it('an upload from the outside through a NodePort to a pod on another node arrives whole and at full speed', async () => {
    // The outside client's kernel hands its TCP segments over as 64 KiB
    // super-frames (TSO on its veth): the agent's eth0 socket must take them whole.
    await waitUsable('bulk', ['web-3']);
    const truncated = await dropped('node1', 'truncated');
    const { child: sink } = await startInNs(
      podNs('web-3'),
      [process.execPath, path.join(FIXTURES, 'tcp-sink.mjs'), '9000'],
      'listening',
    );
    const t0 = performance.now();
    const src = await inNs(outsideNs(), [
      process.execPath,
      path.join(FIXTURES, 'tcp-source.mjs'),
      NODE_IP.node1,
      '30103',
      String(20_000_000),
    ]);
    const ms = performance.now() - t0;
    const sent = lastJson(src.stdout);
    const received = lastJson((await sink).stdout);
    expect(received).toEqual({ bytes: 20_000_000, sha256: sent.sha256, remoteAddress: '10.244.1.254' });
    expect(await dropped('node1', 'truncated')).toBe(truncated);
    expect(ms, '20 MB took').toBeLessThan(10_000);
  });
});

describe('endpoints that are missing, leave, or change', () => {
  it('no endpoints: TCP refused at once (curl exit 7), UDP gets port unreachable; no-endpoints counted', async () => {
    const vip = await clusterIp('empty');
    const before = await dropped('node1', 'no-endpoints');
    const r = await curl(podNs('client-1'), `http://${vip}/`);
    expect(r.exitCode, r.stderr).toBe(7);
    expect(r.ms).toBeLessThan(1_000);
    expect(await dropped('node1', 'no-endpoints')).toBe(before + 1);
    const u = await udpAsk(podNs('client-1'), vip, 53);
    expect(u.error).toBe('ECONNREFUSED');
    expect(u.ms).toBeLessThan(1_000);
    expect(await dropped('node1', 'no-endpoints')).toBe(before + 2);
  });

  it('an agent restart (SIGTERM) keeps an established connection through a Service: conntrack comes back from its snapshot', async () => {
    const vip = await clusterIp('echo-held');
    // A new agent's rr starts again at the first backend, echo-2: a connection
    // to echo-3 would be picked up mid-stream by echo-2 (which resets it)
    // unless the restarted agent knows the flow.
    expect((await frontends('node1', 'echo-held'))[0].backends.map((b: { name: string }) => b.name)).toEqual([
      'echo-2',
      'echo-3',
    ]);
    let conn = await Held.open(podNs('client-1'), vip, 5432);
    if (conn.backend !== 'echo-3') {
      await conn.end();
      conn = await Held.open(podNs('client-1'), vip, 5432);
    }
    expect(conn.backend).toBe('echo-3'); // on node3: its replies come back over VXLAN and need node1's reverse NAT
    expect(await conn.echo('before the restart')).toBe(true);
    const old = readLabState(prefix, STATE_ROOT)!.agents.node1;
    const r = await podwire('lab', 'restart-agent', 'node1');
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(readLabState(prefix, STATE_ROOT)!.agents.node1).not.toBe(old);
    expect((await agent('node1', '/lb')).restoredEntries).toBeGreaterThan(0);
    const rows: any[] = await agent('node1', '/conntrack');
    expect(rows.find((e) => e.orig.sport === conn.localPort && e.orig.dst === vip)).toMatchObject({
      proto: 'TCP',
      state: 'ESTABLISHED',
      reply: { src: await podIp('echo-3'), sport: 5432 },
    });
    expect(await conn.echo('after the restart', 15_000)).toBe(true);
    expect(conn.closed).toBeNull();
    await conn.end();
  });

  it('a backend deleted mid-stream: its connection ends, the connections to the others carry on', async () => {
    const vip = await clusterIp('echo');
    // rr from one node: three connections, one to each backend
    const conns = [
      await Held.open(podNs('client-1'), vip, 5432),
      await Held.open(podNs('client-1'), vip, 5432),
      await Held.open(podNs('client-1'), vip, 5432),
    ];
    expect(conns.map((c) => c.backend).sort()).toEqual(['echo-1', 'echo-2', 'echo-3']);
    for (const c of conns) expect(await c.echo(`before ${c.backend}`)).toBe(true);
    await api.delete('pods', 'default', 'echo-3');
    const doomed = conns.find((c) => c.backend === 'echo-3')!;
    await waitFor('the connection to echo-3 to end', 20_000, () => doomed.closed !== null);
    await waitFor('echo-3 gone from every agent', 20_000, async () => {
      for (const n of NODES)
        if ((await frontends(n, 'echo'))[0]?.backends.some((b: { name: string }) => b.name === 'echo-3')) return false;
      return true;
    });
    for (const c of conns.filter((x) => x !== doomed)) {
      expect(c.closed, c.backend).toBeNull();
      expect(await c.echo(`after ${c.backend}`), c.backend).toBe(true);
    }
    const fresh = (await requests(podNs('client-1'), `http://${vip}:5432/`, 4)).map((p) => p.pod);
    expect(fresh.sort()).toEqual(['echo-1', 'echo-1', 'echo-2', 'echo-2']);
    await Promise.all(conns.map((c) => c.end()));
  });

  it('a backend taken out of the Service while its pod runs: its flow is reset on its next packet (stale-backend), the other flow is untouched', async () => {
    const vip = await clusterIp('echo');
    const conns = [await Held.open(podNs('client-3'), vip, 5432), await Held.open(podNs('client-3'), vip, 5432)];
    expect(conns.map((c) => c.backend).sort()).toEqual(['echo-1', 'echo-2']);
    const [gone, kept] = conns[0].backend === 'echo-1' ? conns : [conns[1], conns[0]];
    const before = await dropped('node3', 'stale-backend');
    await api.patch('pods', 'default', 'echo-1', { metadata: { labels: { app: 'retired' } } });
    await waitUsable('echo', ['echo-2']);
    expect(await gone.echo('anyone there?')).toBe(false);
    await waitFor('the reset to reach the client', 5_000, () => gone.closed !== null);
    expect(gone.closed!.error).toBe('ECONNRESET');
    expect(await dropped('node3', 'stale-backend')).toBe(before + 1);
    expect(await kept.echo('still here')).toBe(true);
    // the pod itself still serves: the reset was the agent's
    expect((await get(podNs('client-3'), `http://${await podIp('echo-1')}:5432/`)).pod).toBe('echo-1');
    await Promise.all(conns.map((c) => c.end()));
  });

  it('a Service change reaches every agent within a second of the API write', async () => {
    const steps: [Record<string, string | null>, string[]][] = [
      [{ app: null, edge: 'true' }, ['web-1', 'web-2']],
      [{ app: 'web', edge: null }, ['web-1', 'web-2', 'web-3']],
    ];
    await waitUsable('moving', ['web-1', 'web-2', 'web-3']);
    for (const [selector, want] of steps) {
      const t0 = performance.now();
      await api.patch('services', 'default', 'moving', { spec: { selector } });
      const took = await Promise.all(
        NODES.map(async (n) => {
          await waitFor(
            `moving = ${want} on ${n}`,
            5_000,
            async () => JSON.stringify(await usable(n, 'moving')) === JSON.stringify(want),
            10,
          );
          return performance.now() - t0;
        }),
      );
      expect(Math.max(...took), `ms per node: ${took.map(Math.round)}`).toBeLessThan(1_000);
    }
  });
});

describe('the cluster’s own paths', () => {
  it('the kubernetes Service: pods on node1 and node3, and node2 itself, reach the API server at 10.96.0.1:443', async () => {
    const version = await api.request('GET', '/version');
    for (const ns of [podNs('client-1'), podNs('client-3'), nodeOf('node2').ns]) {
      // HTTPS with the lab CA; /version answers anonymous requests, as kube-apiserver's does
      const r = await curl(ns, 'https://10.96.0.1:443/version', '--cacert', labPki(state.plan).ca.certFile);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(JSON.parse(r.body)).toEqual(version);
      expect(r.ms, 'the first connection: no SYN lost while the node resolves the API server’s MAC').toBeLessThan(
        1_000,
      );
    }
  });

  it('pod egress: www sees the pod’s node as the client', async () => {
    for (const [c, n] of [
      ['client-1', 'node1'],
      ['client-3', 'node3'],
    ]) {
      const r = await curl(podNs(c), 'http://172.28.0.200/');
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.ms, 'the first connection: no SYN lost while the node resolves www’s MAC').toBeLessThan(1_000);
      expect(r.body).toMatch(new RegExp(`^client: ${NODE_IP[n].replace(/\./g, '\\.')}:\\d+$`, 'm'));
    }
  });

  it('hairpin: a backend reaching its own Service is answered, by itself too (from its node’s SNAT address)', async () => {
    const seq = await requests(podNs('web-1'), `http://${await clusterIp('web-rr')}/`, 3);
    const self = seq.find((p) => p.pod === 'web-1')!;
    expect(self?.srcIp).toBe('10.244.1.254');
    const web1 = await podIp('web-1');
    for (const p of seq.filter((x) => x.pod !== 'web-1')) expect(p.srcIp).toBe(web1);
  });
});

describe('the seed articles’ Services (examples/), applied unchanged', () => {
  const apply = async (ns: string, ...files: string[]) => {
    const r = await podwire('apply', '-n', ns, ...files.flatMap((f) => ['-f', path.join(repo, 'examples', f)]));
    expect(r.exitCode, String(r.stderr)).toBe(0);
    return String(r.stdout);
  };
  const externalIp = async (svc: string, ns: string) => {
    let ip = '';
    await waitFor(
      `${ns}/${svc} to get an EXTERNAL-IP`,
      20_000,
      async () => !!(ip = (await api.get('services', ns, svc)).status?.loadBalancer?.ingress?.[0]?.ip ?? ''),
    );
    return ip;
  };
  /** Through the cloud load balancer: its health checks decide when it forwards, so ask until it answers. */
  const viaLb = async (url: string) => {
    let body = '';
    await waitFor(
      `${url} to answer the outside client`,
      20_000,
      async () => {
        const r = await curl(outsideNs(), url, '--max-time', '1');
        body = r.body;
        return r.exitCode === 0;
      },
      250,
    );
    return body;
  };

  it('000: ClusterIP backend reachable in the cluster, NodePort 30080 on every node, LoadBalancer web-public answers the outside on its EXTERNAL-IP', async () => {
    expect(
      await apply(
        'seed000',
        '000-service-clusterip.yaml',
        '000-service-nodeport.yaml',
        '000-service-loadbalancer.yaml',
      ),
    ).toBe('service/backend created\nservice/web created\nservice/web-public created');
    await waitUsable('backend', ['s0-backend'], 'seed000');
    await waitUsable('web', ['s0-web'], 'seed000');
    expect((await get(podNs('client-1'), `http://${await clusterIp('backend', 'seed000')}/`)).pod).toBe('s0-backend');
    for (const n of NODES) expect((await get(outsideNs(), `http://${NODE_IP[n]}:30080/`)).pod, n).toBe('s0-web');
    const ip = await externalIp('web-public', 'seed000');
    expect(ip).toMatch(/^172\.28\.0\.(24\d|25[0-4])$/);
    expect(String((await podwire('get', 'svc', 'web-public', '-n', 'seed000')).stdout)).toMatch(
      new RegExp(
        `^web-public\\s+LoadBalancer\\s+10\\.96\\.\\S+\\s+${ip.replace(/\./g, '\\.')}\\s+443:3\\d{4}/TCP\\s`,
        'm',
      ),
    );
    const p = page(await viaLb(`http://${ip}:443/`));
    expect(p.pod).toBe('s0-web');
  });

  it('003: backend-service and backend reach the backend tier, the frontend LoadBalancer answers the outside, the headless database gets no virtual IP', async () => {
    expect(await apply('seed003', '003-service-clusterip.yaml', '003-multi-tier-services.yaml')).toBe(
      'service/backend-service created\nservice/frontend created\nservice/backend created\nservice/database created',
    );
    await waitUsable('backend-service', ['s3-backend'], 'seed003');
    await waitUsable('backend', ['s3-backend'], 'seed003');
    await waitUsable('frontend', ['s3-frontend'], 'seed003');
    expect((await get(podNs('client-3'), `http://${await clusterIp('backend-service', 'seed003')}/`)).pod).toBe(
      's3-backend',
    );
    expect((await get(podNs('client-3'), `http://${await clusterIp('backend', 'seed003')}:8080/`)).pod).toBe(
      's3-backend',
    );
    const ip = await externalIp('frontend', 'seed003');
    expect(await viaLb(`http://${ip}/hostname`)).toBe('s3-frontend');
    expect(await clusterIp('database', 'seed003')).toBe('None');
    for (const n of NODES) expect(await frontends(n, 'database', 'seed003')).toEqual([]);
  });
});

describe('bad input', () => {
  it('a targetPort that names no container port: no endpoints, refused, nothing crashes', async () => {
    const before = await healthy();
    await api.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'bad-target' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'nope' }] },
    });
    await waitFor('bad-target programmed on every node', 10_000, async () => {
      for (const n of NODES) if ((await frontends(n, 'bad-target')).length !== 1) return false;
      return true;
    });
    for (const n of NODES) expect((await frontends(n, 'bad-target'))[0].backends).toEqual([]);
    const drops0 = await dropped('node1', 'no-endpoints');
    const r = await curl(podNs('client-1'), `http://${await clusterIp('bad-target')}/`);
    expect([r.exitCode, r.ms < 1_000]).toEqual([7, true]);
    expect(await dropped('node1', 'no-endpoints')).toBe(drops0 + 1);
    expect(await healthy()).toEqual(before);
  });

  it('two Services claim one external IP: the first keeps it, the agents log the conflict, the second takes over when the first goes', async () => {
    const before = await healthy();
    const svc = (name: string, selector: Record<string, string>, targetPort: string | number) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { selector, externalIPs: ['172.28.0.62'], ports: [{ port: 80, targetPort }] },
    });
    await api.create(svc('xip-a', { app: 'web' }, 'http'));
    await waitUsable('xip-a', ['web-1', 'web-2', 'web-3']);
    await api.create(svc('xip-b', { hold: 'true' }, 5432));
    await waitUsable('xip-b', ['echo-2']);
    const conflict = 'service default/xip-b: 172.28.0.62:80/TCP belongs to default/xip-a';
    await waitFor('every agent to log the conflict', 10_000, () => NODES.every((n) => agentLog(n).includes(conflict)));
    for (const p of await requests(podNs('client-3'), 'http://172.28.0.62/', 3)) expect(p.pod).toMatch(/^web-\d$/);
    try {
      await inNs(outsideNs(), ['ip', 'route', 'replace', '172.28.0.62/32', 'via', NODE_IP.node2]);
      expect((await get(outsideNs(), 'http://172.28.0.62/')).pod).toMatch(/^web-\d$/);
    } finally {
      await inNs(outsideNs(), ['ip', 'route', 'del', '172.28.0.62/32']);
    }
    expect(await healthy()).toEqual(before);
    await api.delete('services', 'default', 'xip-a');
    await waitFor('xip-b to answer on 172.28.0.62', 10_000, async () =>
      (await curl(podNs('client-3'), 'http://172.28.0.62/')).body.includes('on pod default/echo-2 '),
    );
  });

  it('garbage frames from a pod to a Service IP: each dropped under its reason, no internal error, the Service still answers', async () => {
    const before = await healthy();
    const counts0 = await drops('node1');
    const spec = {
      ifname: 'eth0',
      dstMac: (await agent('node1', '/status')).gatewayMac,
      srcMac: JSON.parse((await execa('ip', ['-j', '-n', podNs('client-1'), 'link', 'show', 'eth0'])).stdout)[0]
        .address,
      srcIp: await podIp('client-1'),
      vip: await clusterIp('web-rr'),
      port: 80,
      kinds: { 'bad-checksum': 5, 'short-ihl': 6, 'long-total': 7, 'wrong-port': 8, 'wrong-proto': 9 },
    };
    const r = await inNs(podNs('client-1'), [
      process.execPath,
      path.join(SVC_FIXTURES, 'vip-garbage.mjs'),
      JSON.stringify(spec),
    ]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(lastJson(r.stdout).sent).toEqual(spec.kinds);
    const grew = async (reason: string) => (await dropped('node1', reason)) - (counts0[reason] ?? 0);
    await waitFor('the agent to have seen every frame', 5_000, async () => (await grew('no-service-port')) >= 17);
    expect(await grew('bad-ipv4-checksum')).toBe(5);
    expect(await grew('malformed-ipv4')).toBe(6 + 7);
    expect(await grew('no-service-port')).toBe(8 + 9);
    expect(await healthy()).toEqual(before);
    expect((await get(podNs('client-1'), `http://${spec.vip}/`)).pod).toMatch(/^web-\d$/);
  });
});
