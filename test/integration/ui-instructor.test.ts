import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { labUp, fixLab, brokenNow, captureInNamespace, type LabState } from '../../src/lab/index.js';
import { applyDemo } from '../../src/lab/demo.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { readPcapng } from '../../src/capture/index.js';
import { dissectFrame } from '../../src/packet/index.js';
import {
  startUiServer,
  type UiServer,
  type UiTraceResult,
  type UiProbeMatrix,
  type UiScenario,
  type UiActionResult,
  type UiStepState,
} from '../../src/ui/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab, inNs, dropsDuring } from './helpers.js';

// podwire ui's instructor endpoints against a real 2-node lab with the demo
// app and a real UI server: /api/trace between pods on two nodes gives the
// ladder with the real nodes' VXLAN outer IPs and a pcapng of the probe that
// tshark reads; /api/break of default-deny-dns makes curl's packets drops
// (and /api/probe blocked cells naming the policy), /api/fix mends it,
// /api/reset puts the demo back; step mode holds the probe in the agents:
// it arrives only after the last "next", each "next" one layer more.
const prefix = testPrefix('uii');
let state: LabState;
let api: ApiClient;
let ui: UiServer;
let client: KubeObject;
let remote: KubeObject;

function request(method: string, p: string, body?: unknown) {
  return new Promise<{ status: number; body: Buffer; type: string }>((resolve, reject) => {
    const headers: Record<string, string> = { 'x-podwire-ui': ui.token };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = http.request({ host: '127.0.0.1', port: ui.port, method, path: p, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks),
          type: String(res.headers['content-type']),
        }),
      );
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
const json = async <T>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> => {
  const r = await request(method, p, body);
  return { status: r.status, body: JSON.parse(r.body.toString()) as T };
};
const nodeIp = (name: string) => state.plan.nodes.find((n) => n.name === name)!.ip;
const curl = (to: string) =>
  inNs(`${prefix}-pod-client`, ['curl', '-s', '-o', '/dev/null', '--max-time', '2', `http://${to}:8080/`], {
    timeoutMs: 10_000,
  });

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT, controlPlane: true });
  await applyDemo(state, () => {});
  api = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  const pods = (await api.list('pods', { namespace: 'default' })).items;
  client = pods.find((p) => p.metadata.name === 'client')!;
  remote = pods.find(
    (p) => p.metadata.labels?.tier === 'backend' && p.spec.nodeName !== client.spec.nodeName,
  ) as KubeObject;
  expect(remote, 'a backend on the other node than the client').toBeDefined();
  ui = await startUiServer({ lab: state, server: `unix:${state.plan.controlPlane.socket}`, port: 0 });
}, 300_000);

afterEach(async () => {
  if (state) await fixLab(state);
});
afterAll(async () => {
  await ui?.close();
  api?.close();
  if (state) await stopLab(prefix);
});

describe('podwire ui: trace, probe, break/fix/reset, step', () => {
  it('POST /api/trace across nodes: the ladder with the nodes’ VXLAN outer IPs, and a pcapng of the probe tshark reads', async () => {
    const r = await json<UiTraceResult>('POST', '/api/trace', {
      from: 'default/client',
      to: `default/${remote.metadata.name}`,
      port: 8080,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const t = r.body;
    expect(t.verdict, JSON.stringify(t)).toBe('DELIVERED');
    expect(t.layers.map((l) => `${l.name}:${l.state}`)).toEqual([
      'DNS:skipped',
      'Service:skipped',
      'NetworkPolicy:skipped', // no policy in the cluster yet: the stage is off
      'Route:passed',
      'VXLAN:passed',
      'Delivery:passed',
    ]);
    const vx = t.layers[4];
    expect(vx.fields['outer src']).toBe(nodeIp(client.spec.nodeName));
    expect(vx.fields['outer dst']).toBe(nodeIp(remote.spec.nodeName));
    expect(vx.fields.VNI).toBe('1');
    expect(Number(vx.fields['UDP source port'])).toBeGreaterThan(0);
    expect(t.layers[3].fields).toMatchObject({ node: client.spec.nodeName, dev: 'eth0 (VXLAN)' });
    expect(t.layers[5].fields).toMatchObject({ pod: remote.metadata.name, node: remote.spec.nodeName });

    expect(t.pcapUrl).toBe(`/api/trace/${t.id}/pcap`);
    const pcap = await request('GET', t.pcapUrl!);
    expect(pcap.status).toBe(200);
    const packets = readPcapng(pcap.body);
    const vxlan = packets.filter((p) => dissectFrame(p.data, 0, p.data.length).vxlan);
    expect(packets.length, 'source eth0, underlay, destination eth0').toBeGreaterThanOrEqual(3);
    expect(vxlan.length).toBeGreaterThanOrEqual(1);
    const file = path.join(os.tmpdir(), `${prefix}-trace.pcapng`);
    fs.writeFileSync(file, pcap.body);
    try {
      const ts = await execa('tshark', [
        '-r',
        file,
        '-T',
        'fields',
        '-e',
        'ip.dst',
        '-e',
        'vxlan.vni',
        '-e',
        'tcp.dstport',
      ]);
      const lines = ts.stdout.trim().split('\n');
      expect(lines.length).toBe(packets.length);
      // the encapsulated probe: outer and inner destinations, VNI 1, to port 8080
      expect(lines).toContain(`${nodeIp(remote.spec.nodeName)},${remote.status.podIP}\t1\t8080`);
      expect(lines).toContain(`${remote.status.podIP}\t\t8080`);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('bad requests are 4xx with the reason', async () => {
    expect((await json('POST', '/api/trace', { from: 'default/nope', to: 'client' })).status).toBe(404);
    expect((await json('POST', '/api/trace', { from: 'client' })).status).toBe(400);
    const b = await json<UiActionResult>('POST', '/api/break', { scenario: 'no-such-thing', target: 'x' });
    expect(b).toMatchObject({ status: 404, body: { ok: false } });
    expect(b.body.message).toContain('no scenario "no-such-thing"');
  });

  it('break default-deny-dns: curl’s packets dropped by the policy, probe’s cells blocked naming it; fix mends it', async () => {
    const list = await json<UiScenario[]>('GET', '/api/scenarios');
    expect(list.body.find((s) => s.name === 'default-deny-dns')).toMatchObject({
      defaultTarget: 'default',
      broken: [],
    });
    expect((await curl(remote.status.podIP)).exitCode).toBe(0);

    const br = await json<UiActionResult>('POST', '/api/break', { scenario: 'default-deny-dns' });
    expect(br, JSON.stringify(br.body)).toMatchObject({ status: 200, body: { ok: true } });
    expect(brokenNow(state)).toEqual([{ scenario: 'default-deny-dns', target: 'default' }]);
    expect(
      (await json<UiScenario[]>('GET', '/api/scenarios')).body.find((s) => s.name === 'default-deny-dns')!.broken,
    ).toEqual(['default']);
    let got!: Awaited<ReturnType<typeof curl>>;
    const drops = await dropsDuring(state, async () => (got = await curl(remote.status.podIP)));
    expect(got.exitCode).not.toBe(0);
    expect(
      drops.some((d) => d.reason === 'policy-denied-egress' && d.dstPort === 8080),
      JSON.stringify(drops),
    ).toBe(true);

    const tr = await json<UiTraceResult>('POST', '/api/trace', {
      from: 'client',
      to: remote.metadata.name,
      port: 8080,
    });
    expect(tr.body.verdict).toBe('DROPPED');
    expect(tr.body.layers[2]).toMatchObject({
      name: 'NetworkPolicy',
      state: 'dropped',
      reason: 'policy-denied-egress',
      fields: { verdict: 'denied', policy: 'default/default-deny-all' },
    });
    expect(tr.body.layers.slice(3).map((l) => l.state)).toEqual(['skipped', 'skipped', 'skipped']);

    const m = await json<UiProbeMatrix>('GET', '/api/probe?namespace=default&port=8080&proto=tcp');
    expect(m.status, JSON.stringify(m.body)).toBe(200);
    const from = m.body.pods.indexOf('default/client');
    const to = m.body.pods.indexOf(`default/${remote.metadata.name}`);
    expect(from).toBeGreaterThanOrEqual(0);
    const cell = m.body.cells[from][to];
    expect(cell).toMatchObject({ observed: 'blocked', expected: 'blocked' });
    expect(cell.explain).toContain('isolated by default/default-deny-all');

    const fx = await json<UiActionResult>('POST', '/api/fix', {});
    expect(fx.body).toEqual({ ok: true, message: 'fixed: default-deny-dns on default' });
    expect((await curl(remote.status.podIP)).exitCode).toBe(0);
  }, 120_000);

  it('reset: everything broken is fixed and the demo app is back', async () => {
    expect(
      (await json<UiActionResult>('POST', '/api/break', { scenario: 'mtu-mismatch', target: 'client' })).body.ok,
    ).toBe(true);
    await api.delete('services', 'default', 'database');
    const r = await json<UiActionResult>('POST', '/api/reset');
    expect(r.body, r.body.message).toMatchObject({ ok: true });
    expect(r.body.message).toContain('fixed mtu-mismatch on client');
    expect(brokenNow(state)).toEqual([]);
    expect(await api.tryGet('services', 'default', 'database')).toBeTruthy();
  }, 240_000);

  it('step mode: the agents hold the probe; each next adds one layer; it arrives only after the last', async () => {
    // an independent witness on the destination pod's eth0: the first TCP packet from the client to 8080
    let arrived = false;
    let listening!: () => void;
    const ready = new Promise<void>((r) => (listening = r));
    const stop = new AbortController();
    const witness = captureInNamespace({
      ns: `${prefix}-pod-${remote.metadata.name}`,
      ifname: 'eth0',
      label: 'witness',
      format: 'pcapng',
      filter: { proto: 'tcp', host: client.status.podIP, port: 8080 },
      count: 1,
      out: '/dev/null',
      onReady: listening,
      signal: stop.signal,
    }).then((n) => (arrived = n > 0));
    // and one on the underlay: the encapsulated probe between the nodes
    let tunnelled = false;
    let underlayListening!: () => void;
    const underlayReady = new Promise<void>((r) => (underlayListening = r));
    const underlayWitness = captureInNamespace({
      ns: state.plan.underlayNs,
      ifname: state.plan.underlayBridge,
      label: 'underlay witness',
      format: 'pcapng',
      filter: { proto: 'tcp', host: client.status.podIP, port: 8080 },
      count: 1,
      out: '/dev/null',
      promiscuous: true,
      onReady: underlayListening,
      signal: stop.signal,
    }).then((n) => (tunnelled = n > 0));
    await Promise.all([ready, underlayReady]);
    try {
      const start = await json<UiStepState>('POST', '/api/step', {
        from: 'client',
        to: remote.metadata.name,
        port: 8080,
      });
      expect(start.status, JSON.stringify(start.body)).toBe(200);
      let s = start.body;
      expect(s.layers.map((l) => `${l.name}:${l.state}`)).toEqual(['DNS:skipped', 'Service:pending']);
      expect(s.done).toBe(false);
      const seen = [s.layers.length];
      while (!s.done) {
        expect(arrived, `arrived before the last next (at ${s.layers.length} layers)`).toBe(false);
        // held before VXLAN on the sending node until the next that adds the VXLAN layer
        if (s.layers.length < 5) expect(tunnelled, `on the underlay at ${s.layers.length} layers`).toBe(false);
        const n = await json<UiStepState>('POST', `/api/step/${s.id}/next`);
        expect(n.status).toBe(200);
        expect(n.body.layers.length).toBe(s.layers.length + 1);
        s = n.body;
        seen.push(s.layers.length);
        expect(seen.length).toBeLessThan(8);
      }
      expect(seen).toEqual([2, 3, 4, 5, 6]);
      expect(s.verdict).toBe('DELIVERED');
      expect(s.layers.map((l) => l.state)).toEqual(['skipped', 'skipped', 'skipped', 'passed', 'passed', 'passed']);
      await Promise.all([witness, underlayWitness]);
      expect(arrived).toBe(true);
      expect(tunnelled).toBe(true);
    } finally {
      stop.abort();
    }
  }, 120_000);

  it('a trace started while a step-mode probe waits gives that probe up (the agents follow one probe at a time)', async () => {
    const step = await json<UiStepState>('POST', '/api/step', { from: 'client', to: remote.metadata.name, port: 8080 });
    expect(step.body.layers.map((l) => l.state)).toEqual(['skipped', 'pending']);
    const t = await json<UiTraceResult>('POST', '/api/trace', { from: 'client', to: remote.metadata.name, port: 8080 });
    expect(t.body.verdict, JSON.stringify(t.body)).toBe('DELIVERED');
    const n = await json<UiStepState>('POST', `/api/step/${step.body.id}/next`);
    expect(n.body).toMatchObject({ done: true, verdict: 'LOST' });
  }, 60_000);
});
