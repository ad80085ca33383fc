import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { labUp, waitFor, type LabState, observe, captureNat } from '../../src/lab/index.js';
import { applyDemo } from '../../src/lab/demo.js';
import { ApiClient } from '../../src/control/client/index.js';
import { callAgent } from '../../src/agent/control-server.js';
import { agentSocketPath } from '../../src/agent/agent.js';
import { trace } from '../../src/cli/trace.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab, inNs } from './helpers.js';

// Watching kube-proxy's part: a 2-node lab with its control plane and the
// demo app; `lb show`, `conntrack list`, `observe`, the metrics, a capture
// around NAT and `trace` through a Service must all show what the Service
// stage did to a real curl, and trace must name a Service without endpoints.
const prefix = testPrefix('svo');
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let state: LabState;
let client: ApiClient;
let vip: string;
let backends: { name: string; ip: string }[];

const podwire = (...args: string[]) =>
  execa(process.execPath, [path.join(repo, 'bin/podwire.js'), '--lab', prefix, ...args], {
    env: { PODWIRE_STATE_ROOT: STATE_ROOT },
    reject: false,
    timeout: 30_000,
  });
const node = (name: string) => state.plan.nodes.find((n) => n.name === name)!;
const curlVip = () => inNs(`${prefix}-pod-client`, ['curl', '-s', '--max-time', '5', `http://${vip}:8080/`]);

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT, controlPlane: true });
  await applyDemo(state, () => {});
  client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  vip = (await client.get('services', 'default', 'backend')).spec.clusterIP;
  backends = (await client.list('pods', { namespace: 'default', labelSelector: 'tier=backend' })).items.map((p) => ({
    name: p.metadata.name,
    ip: p.status.podIP,
  }));
  // the agents have the backends once the endpoints reached them
  await waitFor('node1 to proxy backend with both endpoints', 20_000, async () => {
    const r = await callAgent(agentSocketPath(node('node1').stateDir), 'GET', '/lb/service?name=backend');
    return r.body?.services?.[0]?.frontends?.[0]?.backends?.filter((b: { ready: boolean }) => b.ready).length === 2;
  });
}, 120_000);

afterAll(async () => {
  client?.close();
  await stopLab(prefix);
});

describe('watching Services', () => {
  it('lb show lists the demo’s Services, their frontends and ready backends', async () => {
    const r = await podwire('lb', 'show', '--node', 'node1');
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = String(r.stdout);
    expect(out).toMatch(new RegExp(`default/backend\\s+${vip.replaceAll('.', '\\.')}:8080/TCP\\s+ClusterIP\\s+random`));
    expect(out).toMatch(/default\/frontend\s+\S+:80\/TCP\s+ClusterIP/);
    for (const b of backends)
      expect(out).toMatch(new RegExp(`=> ${b.ip.replaceAll('.', '\\.')}:8080 \\(${b.name}\\)\\s+ready`));
    const json = JSON.parse(String((await podwire('lb', 'show', 'backend', '-o', 'json')).stdout));
    expect(json.map((s: { node: string }) => s.node)).toEqual(['node1', 'node2']);
    expect(json[1].services[0].frontends[0].backends.map((b: { name: string }) => b.name).sort()).toEqual(
      backends.map((b) => b.name).sort(),
    );
  });

  it('a curl to the ClusterIP: observe shows the translation, capture --nat the VIP before and the pod after, conntrack and metrics count it', async () => {
    let ready = 0;
    let bothReady!: () => void;
    const listening = new Promise<void>((r) => (bothReady = r));
    const onReady = () => ++ready === 2 && bothReady();
    const file = path.join('/tmp', `${prefix}-nat.pcapng`);
    const seen = observe(state, {
      service: 'backend',
      verdict: 'TRANSLATED',
      count: 1,
      durationS: 20,
      onReady,
      print: () => {},
    });
    const captured = captureNat(state, 'node1', file, { count: 4, durationS: 20, onReady });
    await listening;
    const curl = await curlVip();
    expect(String(curl.stdout)).toMatch(/^nginx on pod default\/backend-/);
    const chosen = backends.find((b) => String(curl.stdout).includes(b.name))!;

    const [event] = await seen;
    expect(event).toMatchObject({
      node: 'node1',
      verdict: 'TRANSLATED',
      service: 'default/backend',
      frontend: `${vip}:8080/TCP`,
      frontendType: 'ClusterIP',
      dst: vip,
      dstPort: 8080,
      newDst: chosen.ip,
      newDstPort: 8080,
      backend: chosen.name,
      nat: 'dnat',
    });

    expect(await captured).toBe(4);
    const t = await execa('tshark', [
      '-r',
      file,
      '-T',
      'fields',
      '-E',
      'separator=|',
      '-e',
      'frame.comment',
      '-e',
      'ip.src',
      '-e',
      'ip.dst',
      '-e',
      'tcp.dstport',
      '-e',
      'tcp.srcport',
    ]);
    fs.rmSync(file, { force: true });
    const client_ = event.src;
    expect(String(t.stdout).trim().split('\n')).toEqual([
      `pre-nat|${client_}|${vip}|8080|${event.srcPort}`,
      `post-nat|${client_}|${chosen.ip}|8080|${event.srcPort}`,
      `pre-nat|${chosen.ip}|${client_}|${event.srcPort}|8080`,
      `post-nat|${vip}|${client_}|${event.srcPort}|8080`,
    ]);

    const ct = await podwire('conntrack', 'list', '--node', 'node1', '--service-ip', vip);
    expect(String(ct.stdout)).toMatch(
      new RegExp(
        `TCP\\s+\\S+\\s+\\d+s\\s+${client_.replaceAll('.', '\\.')}:${event.srcPort} -> ${vip.replaceAll('.', '\\.')}:8080\\s+${chosen.ip.replaceAll('.', '\\.')}:8080 -> \\S+\\s+dnat\\s+${chosen.name}`,
      ),
    );

    const n1 = node('node1');
    const m = String((await inNs(n1.ns, ['curl', '-s', `http://${n1.ip}:9101/metrics`])).stdout);
    expect(m).toMatch(
      new RegExp(
        `podwire_service_backend_connections_total\\{service="default/backend",port="8080/TCP",backend="${chosen.name}",node="node1"\\} [1-9]`,
      ),
    );
    expect(m).toMatch(/podwire_service_new_flows_total\{node="node1"\} [1-9]/);
    expect(m).toMatch(/podwire_conntrack_entries\{node="node1"\} [1-9]/);
    expect(m).toMatch(/podwire_conntrack_max\{node="node1"\} 131072/);
    expect(m).toContain(
      `podwire_service_backends{service="default/backend",frontend="${vip}:8080/TCP",state="ready",node="node1"} 2`,
    );

    const flushed = await podwire('conntrack', 'flush', '--node', 'node1', '--dst', vip);
    expect(String(flushed.stdout)).toMatch(/^[1-9]\d* flow entries have been deleted \(node1: [1-9]/);
  });

  it('trace through the Service: received → service → conntrack → nat → route … deliver, and the probe arrives at the backend chosen', async () => {
    const { result, text } = await trace(state, 'client', 'svc/backend', {});
    expect(result.verdict, text).toBe('DELIVERED');
    const stages = result.layers.filter((l) => l.where.endsWith(' agent')).map((l) => l.what.split(':')[0]);
    expect(stages.slice(0, 6)).toEqual(['received', 'service', 'service', 'conntrack', 'nat', 'route']);
    expect(stages[stages.length - 1]).toBe('deliver');
    const chosen = backends.find((b) => result.summary.includes(b.name));
    expect(chosen, result.summary).toBeDefined();
    expect(text).toContain(`Service default/backend (${vip}:8080/tcp)`);
    expect(text).toContain(`backend ${chosen!.name} ${chosen!.ip}:8080`);
    expect(result.layers[result.layers.length - 1]).toMatchObject({ where: chosen!.name });
    // by the ClusterIP too
    const byIp = await trace(state, 'client', vip, {});
    expect(byIp.result.verdict, byIp.text).toBe('DELIVERED');
  });

  it('a Service without endpoints: trace says DROPPED no-endpoints (default/web), observe names the Service', async () => {
    await client.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'nobody' }, ports: [{ port: 80 }] },
    });
    await waitFor(
      'node1 to proxy web',
      10_000,
      async () =>
        (await callAgent(agentSocketPath(node('node1').stateDir), 'GET', '/lb/service?name=web')).body?.services
          ?.length === 1,
    );
    let ready!: () => void;
    const listening = new Promise<void>((r) => (ready = r));
    const drops = observe(state, {
      service: 'web',
      verdict: 'DROPPED',
      count: 1,
      durationS: 15,
      onReady: () => ready(),
      print: () => {},
    });
    await listening;
    const { result, text } = await trace(state, 'client', 'svc/web', {});
    expect(result).toMatchObject({ verdict: 'DROPPED', reason: 'no-endpoints' });
    expect(text).toContain("DROPPED: stopped at node1's agent: no-endpoints (default/web)");
    expect((await drops)[0]).toMatchObject({ reason: 'no-endpoints', detail: 'default/web', node: 'node1' });
  });
});
