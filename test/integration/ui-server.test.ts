import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import { waitFor, restartAgent, restartApiServer, type LabState } from '../../src/lab/index.js';
import type { ApiClient, KubeObject } from '../../src/control/client/index.js';
import {
  startUiServer,
  type UiServer,
  type UiFlowBatch,
  type UiDrop,
  type UiStatus,
  type UiTopology,
} from '../../src/ui/index.js';
import { STATE_ROOT, testPrefix, stopLab, inNs, demoLabAcrossNodes } from './helpers.js';

// podwire ui's server against a real 2-node lab with the demo app: /api/topology names what the API
// server holds, a real curl from node1's client to a backend on node2 arrives on /api/events as a
// flow along pod → cbr0 → agent → VXLAN → agent → cbr0 → pod, a NetworkPolicy's drop as a drop
// event with its reason, a restarted agent as status down then up; foreign origins and token-less
// POSTs get 403.
const prefix = testPrefix('uis');
let state: LabState;
let api: ApiClient;
let ui: UiServer;
let client: KubeObject;
let remote: KubeObject;
const events: { event: string; data: any }[] = [];
let sse: http.ClientRequest | undefined;

const podId = (p: KubeObject) => `${p.metadata.namespace}/${p.metadata.name}`;
const curl = (to: string) =>
  inNs(`${prefix}-pod-client`, ['curl', '-s', '-o', '/dev/null', '--max-time', '3', `http://${to}:8080/`], {
    timeoutMs: 10_000,
  });

/** a request to the UI server with these headers; resolves with status and body */
function request(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: ui.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** follow /api/events as a page does, keeping every message */
function followEvents(): Promise<void> {
  return new Promise((resolve, reject) => {
    sse = http.get({ host: '127.0.0.1', port: ui.port, path: '/api/events' }, (res) => {
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const msg = pending.slice(0, end);
          pending = pending.slice(end + 2);
          const event = /^event: (.*)$/m.exec(msg)?.[1];
          const data = /^data: (.*)$/m.exec(msg)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      });
      resolve();
    });
    sse.on('error', reject);
  });
}
const seen = <T>(name: string, pred: (d: T) => boolean) => events.some((e) => e.event === name && pred(e.data as T));

beforeAll(async () => {
  ({ state, api, client, remote } = await demoLabAcrossNodes(prefix));
  ui = await startUiServer({ lab: state, server: `unix:${state.plan.controlPlane.socket}`, port: 0 });
  await followEvents();
}, 240_000);

afterAll(async () => {
  sse?.destroy();
  await ui?.close();
  api?.close();
  await stopLab(prefix);
}, 120_000);

describe('podwire ui’s server on a real lab', () => {
  it('GET /api/topology lists the nodes and pods the API server holds, with the plan’s addresses', async () => {
    const nodes = (await api.list('nodes')).items.map((n) => n.metadata.name).sort();
    const pods = (await api.list('pods')).items
      .filter((p) => p.status?.podIP && !p.spec?.hostNetwork)
      .map(podId)
      .sort();
    let t!: UiTopology;
    await waitFor('the topology to hold the API’s pods with their IPs', 20_000, async () => {
      t = JSON.parse((await request('GET', '/api/topology')).body) as UiTopology;
      const have = t.pods.filter((p) => p.ip).map((p) => `${p.namespace}/${p.name}`);
      // and every agent's stream followed (the server marks an agent up once its /observe answers)
      return JSON.stringify(have.sort()) === JSON.stringify(pods) && t.nodes.every((n) => n.agent === 'up');
    });
    expect(t.nodes.map((n) => n.name)).toEqual(nodes);
    for (const n of state.plan.nodes)
      expect(t.nodes.find((x) => x.name === n.name)).toMatchObject({ ip: n.ip, podCidr: n.podCidr, agent: 'up' });
    expect(t.services.find((s) => s.name === 'backend')?.backends.some((b) => b.pod === podId(remote))).toBe(true);
    expect(t.pods.find((p) => p.name === 'client')).toMatchObject({ ip: client.status.podIP, node: 'node1' });
    // what a page gets at connect
    expect(events[0].event).toBe('topology');
    expect(events[1]).toMatchObject({ event: 'status', data: { apiserver: 'up' } });
  });

  it('a curl from node1’s client to a pod on node2 is a flow along pod → cbr0 → agent → VXLAN → agent → cbr0 → pod', async () => {
    const dst = remote.status.podIP as string;
    await waitFor('a flows event for the curl', 20_000, async () => {
      await curl(dst);
      return seen<UiFlowBatch>('flows', (b) => b.flows.some((f) => f.dst.ip === dst && f.src.pod === 'default/client'));
    });
    const flow = events
      .filter((e) => e.event === 'flows')
      .flatMap((e) => (e.data as UiFlowBatch).flows)
      .find((f) => f.dst.ip === dst && f.src.pod === 'default/client')!;
    expect(flow).toMatchObject({
      proto: 'TCP',
      verdict: 'FORWARDED',
      src: { ip: client.status.podIP, pod: 'default/client', node: 'node1' },
      dst: { ip: dst, pod: podId(remote), node: 'node2', port: 8080 },
    });
    expect(flow.path).toEqual([
      { kind: 'pod', id: 'default/client' },
      { kind: 'bridge', node: 'node1' },
      { kind: 'agent', node: 'node1' },
      { kind: 'vxlan', from: 'node1', to: 'node2' },
      { kind: 'agent', node: 'node2' },
      { kind: 'bridge', node: 'node2' },
      { kind: 'pod', id: podId(remote) },
    ]);
  });

  it('a NetworkPolicy’s drop arrives as a drop event with its reason, and the policy in the topology', async () => {
    const dst = remote.status.podIP as string;
    await api.create({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'ui-deny-backend', namespace: 'default' },
      spec: { podSelector: { matchLabels: { tier: 'backend' } }, policyTypes: ['Ingress'] },
    });
    try {
      await waitFor('the policy in a topology event', 10_000, () =>
        seen<UiTopology>('topology', (t) =>
          t.policies.some((p) => p.name === 'ui-deny-backend' && p.podSelector === 'tier=backend'),
        ),
      );
      await waitFor('a drop event for the denied curl', 20_000, async () => {
        await curl(dst);
        return seen<UiDrop>('drop', (d) => d.dst.startsWith(`${dst}:`) && d.srcPod === 'default/client');
      });
      const drop = events.find((e) => e.event === 'drop' && (e.data as UiDrop).dst.startsWith(`${dst}:`))!
        .data as UiDrop;
      expect(drop).toMatchObject({ node: 'node2', proto: 'TCP', dstPod: podId(remote) });
      expect(drop.reason).toMatch(/^policy-denied/);
      const dropped = events
        .filter((e) => e.event === 'flows')
        .flatMap((e) => (e.data as UiFlowBatch).flows)
        .find((f) => f.dst.ip === dst && f.verdict === 'DROPPED')!;
      expect(dropped.dropAt).toEqual({ node: 'node2', hop: 4 });
      expect(dropped.reason).toBe(drop.reason);
    } finally {
      await api.delete('networkpolicies', 'default', 'ui-deny-backend');
    }
  });

  it('refuses a POST without the session token and a request from a foreign origin or Host', async () => {
    const host = { host: `127.0.0.1:${ui.port}` };
    expect((await request('POST', '/api/break', { ...host, 'content-type': 'application/json' }, '{}')).status).toBe(
      403,
    );
    expect((await request('GET', '/api/topology', { ...host, origin: 'http://evil.example' })).status).toBe(403);
    expect((await request('GET', '/api/session', { host: `evil.example:${ui.port}` })).status).toBe(403);
    expect((await request('GET', '/api/session', { ...host, origin: `http://127.0.0.1:${ui.port}` })).status).toBe(200);
    // the session: this lab, this start's token, the instructor's routes mounted
    expect(JSON.parse((await request('GET', '/api/session', host)).body)).toEqual({
      lab: prefix,
      token: ui.token,
      features: { instructor: true, step: true },
    });
    // the token of this server start lets a POST through the checks (no route: 404, not 403)
    const r = await request('POST', '/api/nothing', { ...host, 'x-podwire-ui': ui.token }, '{}');
    expect(r.status).toBe(404);
    // the page's files (npm run build put them in dist/ui), and nothing else of that folder
    const index = await new Promise<http.IncomingMessage>((r) =>
      http.get({ host: '127.0.0.1', port: ui.port, path: '/' }, (res) => r(res.resume())),
    );
    expect([index.statusCode, index.headers['content-type'], index.headers['cache-control']]).toEqual([
      200,
      'text/html; charset=utf-8',
      'no-cache',
    ]);
    expect((await request('GET', '/app.js', host)).status).toBe(200);
    expect((await request('GET', '/server.js', host)).status).toBe(404);
    const unbuilt = await startUiServer({
      lab: state,
      server: `unix:${state.plan.controlPlane.socket}`,
      port: 0,
      webRoot: '/nonexistent/dist/ui',
    });
    try {
      const r = await new Promise<{ status: number; body: string }>((resolve) =>
        http.get({ host: '127.0.0.1', port: unbuilt.port, path: '/' }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        }),
      );
      expect(r.status).toBe(503);
      expect(r.body).toMatch(/npm run build/);
    } finally {
      await unbuilt.close();
    }
    // no way out of dist/ui
    expect((await request('GET', '/%2e%2e/%2e%2e/package.json', host)).status).not.toBe(200);
    expect((await request('GET', '/assets/../../../package.json', host)).status).not.toBe(200);
  });

  it('an agent restarted: status says node2’s agent down, then up again', async () => {
    const from = events.length;
    await restartAgent({ prefix, stateRoot: STATE_ROOT, node: 'node2' });
    const after = () =>
      events
        .slice(from)
        .filter((e) => e.event === 'status')
        .map((e) => e.data as UiStatus);
    await waitFor('status: node2 down then up', 30_000, () => {
      const s = after();
      const down = s.findIndex((x) => x.agents.node2 === 'down');
      return down >= 0 && s.slice(down + 1).some((x) => x.agents.node2 === 'up');
    });
    expect(after().find((x) => x.agents.node2 === 'down')?.message).toMatch(/node2/);
  });

  it('the API server restarted: status says it down, then up, and a change made after is drawn', async () => {
    const from = events.length;
    await restartApiServer({ prefix, stateRoot: STATE_ROOT, crash: true });
    const after = () =>
      events
        .slice(from)
        .filter((e) => e.event === 'status')
        .map((e) => e.data as UiStatus);
    await waitFor('status: API server down then up', 30_000, () => {
      const s = after();
      const down = s.findIndex((x) => x.apiserver === 'down');
      return down >= 0 && s.slice(down + 1).some((x) => x.apiserver === 'up');
    });
    // the informers watch again: a Service made now reaches the page
    await waitFor('the API server to take a Service', 20_000, async () =>
      api
        .create({
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'ui-after', namespace: 'default' },
          spec: { ports: [{ port: 81 }] },
        })
        .then(
          () => true,
          () => false,
        ),
    );
    await waitFor('the new Service in a topology event', 20_000, () =>
      seen<UiTopology>('topology', (t) => t.services.some((x) => x.name === 'ui-after')),
    );
  });
});
