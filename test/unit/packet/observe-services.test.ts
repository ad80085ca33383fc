// Watching the Service stage on real frames: node1 (test/unit/dataplane/node1.ts)
// with a ClusterIP Service, its trace points fanned out by the agent's
// TracerHub to a NAT capture, a flow log and the metrics registry.

import { describe, expect, it } from 'vitest';
import { TCP_SYN, ipv4ToString } from '../../../src/packet/index.js';
import { LbState, serviceSnatIp, parseCidr, type PipelineTracer } from '../../../src/dataplane/index.js';
import { compileService } from '../../../src/lb/index.js';
import { DropCapture, NatCapture, readPcapng } from '../../../src/capture/index.js';
import { FlowLog, agentMetrics, type FlowEvent } from '../../../src/observe/index.js';
import { TracerHub } from '../../../src/agent/tracer-hub.js';
import { node1, podTcp, POD_A, POD_B, REMOTE_POD } from '../dataplane/node1.js';

const VIP = '10.96.0.20';

function serviceNode(endpoints: string[]) {
  const n = node1();
  const lb = new LbState({
    snatIp: serviceSnatIp(parseCidr('10.244.1.0/24')),
    serviceCidr: parseCidr('10.96.0.0/12'),
    clusterCidr: parseCidr('10.244.0.0/16'),
  });
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'default', name: 'web' },
    spec: { type: 'ClusterIP', clusterIP: VIP, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
  };
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'default', name: 'web-abcde', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: endpoints.map((ip) => ({
      addresses: [ip],
      nodeName: ip.startsWith('10.244.1.') ? 'node1' : 'node2',
      targetRef: { kind: 'Pod', name: `web-${ip.split('.')[3]}` },
      conditions: { ready: true, serving: true, terminating: false },
    })),
  };
  const c = compileService(svc as never, [slice as never], { name: 'node1' }, { defaultScheduler: 'rr' });
  lb.table.setService(c.service, c.frontends);
  n.pipeline.setLoadBalancer(lb);
  return { ...n, lb };
}

describe('NAT capture point', () => {
  it('records each translated packet before and after the rewrite, pre-nat / post-nat, and keeps a pair when either side matches the filter', () => {
    const n = serviceNode([POD_B.ip]);
    const hub = new TracerHub(n.pipeline);
    const chunks: Buffer[] = [];
    const cap = new NatCapture(
      'node1',
      'both',
      { host: VIP },
      (c) => (chunks.push(c), true),
      () => 0,
    );
    hub.add(cap);
    n.fromPods(podTcp({ dst: VIP, dstPort: 80, flags: TCP_SYN }));
    n.fromPods(podTcp({ dst: POD_B.ip, dstPort: 5201 })); // not translated: not captured
    const packets = readPcapng(Buffer.concat(chunks));
    expect(
      packets.map((p) => [
        p.interfaceName,
        p.comment,
        ipv4ToString(p.data.readUInt32BE(26)),
        ipv4ToString(p.data.readUInt32BE(30)),
        p.data.readUInt16BE(36),
      ]),
    ).toEqual([
      ['node1/nat:from-pods', 'pre-nat', POD_A.ip, VIP, 80],
      ['node1/nat:from-pods', 'post-nat', POD_A.ip, POD_B.ip, 8080],
    ]);
    expect(cap.written).toBe(2);
    hub.remove(cap);
  });

  it('--pre / --post keep one side; a slow reader loses frames (counted) instead of stalling the pipeline', () => {
    const n = serviceNode([POD_B.ip]);
    const chunks: Buffer[] = [];
    const post = new NatCapture(
      'node1',
      'post',
      {},
      (c) => (chunks.push(c), true),
      () => 0,
    );
    n.pipeline.setTracer(post);
    n.fromPods(podTcp({ dst: VIP, dstPort: 80, flags: TCP_SYN }));
    expect(readPcapng(Buffer.concat(chunks)).map((p) => p.comment)).toEqual(['post-nat']);
    const slow = new NatCapture(
      'node1',
      'both',
      {},
      () => true,
      () => 64 << 20,
    );
    n.pipeline.setTracer(slow);
    n.fromPods(podTcp({ dst: VIP, dstPort: 80, srcPort: 40001, flags: TCP_SYN }));
    expect([slow.written, slow.lost]).toEqual([0, 2]);
  });
});

describe('capture --drops', () => {
  it('names what a drop is about in the packet comment: the Service without endpoints', () => {
    const n = serviceNode([]);
    const chunks: Buffer[] = [];
    n.pipeline.setTracer(
      new DropCapture(
        'node1',
        (c) => (chunks.push(c), true),
        () => 0,
      ),
    );
    n.fromPods(podTcp({ dst: VIP, dstPort: 80, flags: TCP_SYN }));
    expect(readPcapng(Buffer.concat(chunks)).map((p) => p.comment)).toEqual([
      'podwire drop: no-endpoints (default/web) — the Service has no ready endpoints: the client gets a TCP reset or ICMP port unreachable (node node1)',
    ]);
  });
});

describe('TracerHub', () => {
  it('has a hook only while an attached tracer has it, and hands drops their detail', () => {
    const n = serviceNode([]);
    const hub = new TracerHub(n.pipeline);
    const drops: (string | undefined)[] = [];
    const plain: PipelineTracer = { dropped: (_r, _p, _b, _o, _l, detail) => drops.push(detail) };
    hub.add(plain);
    expect([hub.natPoint, hub.natCreated, hub.forwarded]).toEqual([undefined, undefined, undefined]);
    n.fromPods(podTcp({ dst: VIP, dstPort: 80, flags: TCP_SYN }));
    expect(drops).toEqual(['default/web']); // no-endpoints, about Service default/web
    const log = new FlowLog('node1', () => {});
    hub.add(log);
    expect(typeof hub.natCreated).toBe('function');
    expect(hub.natPoint).toBeUndefined(); // a flow log does not make packets pay for a NAT capture
    hub.remove(log);
    expect(hub.natCreated).toBeUndefined();
  });
});

describe('observe and metrics on the Service stage', () => {
  it('the flow log shows the translation and tags the flows it starts; metrics count per backend', async () => {
    const n = serviceNode([POD_B.ip, REMOTE_POD.ip]);
    const hub = new TracerHub(n.pipeline);
    const events: FlowEvent[] = [];
    hub.add(
      new FlowLog(
        'node1',
        (e) => events.push(e),
        () => Date.UTC(2026, 0, 1),
      ),
    );
    n.fromPods(podTcp({ dst: VIP, dstPort: 80, flags: TCP_SYN }));
    n.fromPods(podTcp({ dst: VIP, dstPort: 80, srcPort: 40001, flags: TCP_SYN }));
    const translated = events.filter((e) => e.verdict === 'TRANSLATED');
    expect(
      translated.map((e) => [
        e.service,
        e.frontend,
        e.frontendType,
        `${e.src}:${e.srcPort}`,
        `${e.dst}:${e.dstPort}`,
        `${e.newDst}:${e.newDstPort}`,
        e.backend,
        e.nat,
        e.from,
      ]),
    ).toEqual([
      [
        'default/web',
        `${VIP}:80/TCP`,
        'ClusterIP',
        `${POD_A.ip}:40000`,
        `${VIP}:80`,
        `${POD_B.ip}:8080`,
        'web-3',
        'dnat',
        'from-pods',
      ],
      [
        'default/web',
        `${VIP}:80/TCP`,
        'ClusterIP',
        `${POD_A.ip}:40001`,
        `${VIP}:80`,
        `${REMOTE_POD.ip}:8080`,
        'web-5',
        'dnat',
        'from-pods',
      ],
    ]);
    const forwarded = events.filter((e) => e.verdict === 'FORWARDED');
    expect(forwarded.map((e) => [e.dst, e.to, e.service])).toEqual([
      [POD_B.ip, 'local-pod', 'default/web'],
      [REMOTE_POD.ip, 'vxlan', 'default/web'],
    ]);

    const metrics = await agentMetrics({
      node: 'node1',
      pipeline: n.pipeline,
      podName: () => undefined,
      peerName: () => undefined,
      kernelDrops: () => ({ pods: 0, underlay: 0 }),
      internalErrors: () => 0,
      services: () => n.lb,
    }).metrics();
    const line = (prefix: string) => metrics.split('\n').filter((l) => l.startsWith(prefix));
    expect(line('podwire_service_backend_connections_total{')).toEqual([
      'podwire_service_backend_connections_total{service="default/web",port="80/TCP",backend="web-3",node="node1"} 1',
      'podwire_service_backend_connections_total{service="default/web",port="80/TCP",backend="web-5",node="node1"} 1',
    ]);
    expect(line('podwire_service_backends{')).toContain(
      'podwire_service_backends{service="default/web",frontend="10.96.0.20:80/TCP",state="usable",node="node1"} 2',
    );
    expect(line('podwire_conntrack_entries')).toEqual(['podwire_conntrack_entries{node="node1"} 2']);
    expect(line('podwire_service_new_flows_total')).toEqual(['podwire_service_new_flows_total{node="node1"} 2']);
    expect(line('podwire_conntrack_max')).toHaveLength(1);
    expect(line('podwire_lb_rejected_total')).toHaveLength(1);
  });
});
