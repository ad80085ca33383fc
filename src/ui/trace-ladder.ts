/**
 * The articles' layer ladder from what `podwire trace` saw (pure): DNS →
 * Service → NetworkPolicy → Route → VXLAN → Delivery, each with the packet's
 * fields at that layer, the layer that stopped the probe marked dropped
 * with the agent's reason, and layers the probe had no business with
 * (a pod target needs no DNS, a same-node route no VXLAN) marked skipped.
 * While a step-mode probe is still on its way (`final` false), layers with
 * no evidence yet are pending.
 */
import type { AgentEvent, Layer, TraceResult } from '../trace/index.js';
import type { UiLayer, UiLayerName } from './contract.js';

export const LADDER: readonly UiLayerName[] = ['DNS', 'Service', 'NetworkPolicy', 'Route', 'VXLAN', 'Delivery'];

export interface LadderInput {
  result: TraceResult;
  /** the agents' events for the probe (lab/trace-run.ts TraceOutcome.events) */
  events: AgentEvent[];
  /** how many of result.layers are the DNS layer */
  dnsLayers: number;
  /** the name asked, when the target was resolved first */
  name?: string;
  address?: string;
  srcPod: string;
  srcNode: string;
  /** where the probe was to end (for a Service, the backend chosen) */
  dstPod?: string;
  dstNode?: string;
  /** false while a step-mode probe is still travelling */
  final: boolean;
}

/** Which layer a drop reason belongs to (the stage that decides it). */
export function layerOfDrop(reason: string): UiLayerName | null {
  if (reason.startsWith('policy-denied')) return 'NetworkPolicy';
  if (
    [
      'no-endpoints',
      'etp-local-no-endpoint',
      'no-service-port',
      'conntrack-full',
      'stale-backend',
      'nat-ports-exhausted',
    ].includes(reason)
  )
    return 'Service';
  if (reason.startsWith('vxlan-') || ['peer-unresolved', 'peer-unreachable', 'mtu-exceeded'].includes(reason))
    return 'VXLAN';
  if (['no-route', 'ttl-expired', 'not-for-gateway', 'spoofed-source', 'underlay-unresolved'].includes(reason))
    return 'Route';
  if (reason === 'arp-unresolved') return 'Delivery';
  return null;
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

function layer(
  name: UiLayerName,
  state: UiLayer['state'],
  summary: string,
  fields: Record<string, string> = {},
  node?: string,
): UiLayer {
  return { name, state, summary, fields, ...(node ? { node } : {}) };
}

function dnsLayer(i: LadderInput, dns: Layer[]): UiLayer {
  if (!dns.length) return layer('DNS', 'skipped', 'the target is a pod, a Service or an address: no name to resolve');
  const servers = dns.flatMap((l) => [...l.what.matchAll(/@(\S+)/g)].map((m) => m[1]));
  const fields: Record<string, string> = { name: i.name ?? '' };
  if (i.address) fields.answer = i.address;
  if (servers.length) fields.server = servers[servers.length - 1];
  const last = dns[dns.length - 1].what;
  if (i.address) return layer('DNS', 'passed', last.replace(/^dns: /, ''), fields, i.srcPod);
  return layer('DNS', 'dropped', i.result.summary, fields, i.srcPod);
}

function serviceLayer(ev: AgentEvent[]): UiLayer | null {
  const svc = ev.filter((e) => e.stage === 'service');
  if (!svc.length) return null;
  const fe = svc.find((e) => e.data?.frontend !== undefined);
  const be = svc.find((e) => e.data?.backendIp !== undefined);
  const ct = ev.find((e) => e.stage === 'conntrack' && !e.data?.policy);
  const nat = ev.find((e) => e.stage === 'nat');
  const fields: Record<string, string> = {};
  if (fe) {
    fields.service = str(fe.data?.service);
    fields.frontend = str(fe.data?.frontend);
    const sched = /scheduler (\S+)/.exec(fe.detail);
    if (sched) fields.scheduler = sched[1];
  }
  if (be) fields.backend = `${str(be.data?.backend)} (${str(be.data?.backendIp)}:${str(be.data?.backendPort)})`;
  if (ct) fields.conntrack = ct.detail;
  if (nat) fields.nat = nat.detail;
  return layer(
    'Service',
    'passed',
    be ? `Service ${fields.service ?? ''}: ${be.detail}` : (fe?.detail ?? svc[0].detail),
    fields,
    svc[0].node,
  );
}

function policyLayer(ev: AgentEvent[]): UiLayer | null {
  const pol = ev.filter((e) => e.stage === 'policy');
  if (!pol.length) return null;
  const fields: Record<string, string> = {};
  for (const e of pol) {
    const dir = str(e.data?.direction) || (e.data?.established ? 'established' : 'verdict');
    fields[dir] = `${str(e.data?.verdict) || 'allowed'} on ${e.node}: ${e.detail}`;
    if (e.data?.policy) fields.policy = str(e.data.policy);
    if (Array.isArray(e.data?.policies)) fields.policy = (e.data.policies as string[]).join(', ');
    if (e.data?.rule) fields.rule = str(e.data.rule);
  }
  const denied = pol.some((e) => e.data?.verdict === 'denied');
  fields.verdict = denied ? 'denied' : pol.some((e) => e.data?.verdict === 'allowed') ? 'allowed' : 'open';
  return layer(
    'NetworkPolicy',
    denied ? 'dropped' : 'passed',
    pol.map((e) => e.detail).join('; '),
    fields,
    pol[pol.length - 1].node,
  );
}

function routeLayer(i: LadderInput, ev: AgentEvent[]): { layer: UiLayer; local: boolean } | null {
  const r = ev.find((e) => e.stage === 'route');
  const toHost = ev.find((e) => e.stage === 'to-host');
  const podRoute = i.result.layers.find((l) => l.where === i.srcPod && l.what.startsWith('route: '))?.what;
  const fields: Record<string, string> = { node: r?.node ?? toHost?.node ?? i.srcNode };
  if (podRoute) fields['pod route'] = podRoute.replace(/^route: /, '');
  if (toHost) return { layer: layer('Route', 'passed', toHost.detail, fields, toHost.node), local: true };
  if (!r) return null;
  const peerIp = str(r.data?.peerIp);
  const local = !r.data?.peer;
  fields['next hop'] = local ? (i.dstPod ?? 'the pod, on cbr0') : `${str(r.data?.peer)} (${peerIp})`;
  fields.dev = local ? 'cbr0' : 'eth0 (VXLAN)';
  return { layer: layer('Route', 'passed', r.detail, fields, r.node), local };
}

function vxlanLayer(ev: AgentEvent[]): UiLayer | null {
  const en = ev.find((e) => e.stage === 'encap');
  if (!en) return null;
  const de = ev.find((e) => e.stage === 'decap');
  const fields: Record<string, string> = {
    'outer src': str(en.data?.outerSrc),
    'outer dst': str(en.data?.outerDst),
    VNI: str(en.data?.vni),
    'UDP source port': str(en.data?.srcPort),
  };
  if (de) fields['decapsulated by'] = de.node;
  return layer('VXLAN', 'passed', en.detail.replace(/^VXLAN: /, ''), fields, en.node);
}

function deliveryLayer(i: LadderInput, ev: AgentEvent[]): UiLayer | null {
  const d = ev.find((e) => e.stage === 'deliver');
  const arrived = i.result.verdict === 'DELIVERED' || i.result.verdict === 'ANSWERED-BY-NODE';
  if (!d && !(i.final && i.result.verdict === 'ANSWERED-BY-NODE')) return null;
  const fields: Record<string, string> = {};
  if (i.dstPod) fields.pod = i.dstPod;
  const node = d?.node ?? i.dstNode;
  if (node) fields.node = node;
  const eth0 = i.result.layers.find((l) => l.what.startsWith('eth0: the probe arrived'));
  if (eth0) fields.arrival = eth0.what.replace(/^eth0: /, '');
  if (!i.final && !arrived) return layer('Delivery', 'passed', d!.detail, fields, node);
  if (!arrived) return null;
  return layer('Delivery', 'passed', i.result.summary, fields, node);
}

/** The ladder for one trace (see the file comment). */
export function traceLadder(i: LadderInput): UiLayer[] {
  const ev = i.events;
  const dns = i.result.layers.slice(0, i.dnsLayers);
  const out = new Map<UiLayerName, UiLayer | null>();
  out.set('DNS', dnsLayer(i, dns));
  const senderSeen = ev.some((e) => e.node === i.srcNode && e.stage !== 'held');
  out.set(
    'Service',
    serviceLayer(ev) ?? (senderSeen ? layer('Service', 'skipped', 'not a Service address: no translation') : null),
  );
  const route = routeLayer(i, ev);
  const routed = route !== null;
  out.set(
    'NetworkPolicy',
    policyLayer(ev) ??
      (routed
        ? layer('NetworkPolicy', 'skipped', 'no NetworkPolicy in the cluster: the policy stage is off, every pod open')
        : null),
  );
  out.set('Route', route?.layer ?? null);
  out.set('VXLAN', vxlanLayer(ev) ?? (route?.local ? layer('VXLAN', 'skipped', 'same node: no tunnel') : null));
  out.set('Delivery', deliveryLayer(i, ev));
  const dnsFailed = i.result.verdict === 'DNS-FAILED';
  const drop = ev.find((e) => e.stage === 'drop');
  let stopAt: UiLayerName | null = null;
  let stopLayer: UiLayer | null = null;
  if (dnsFailed) stopAt = 'DNS';
  else if (drop) {
    const reason = str(drop.data?.reason);
    const first = LADDER.find((n) => n !== 'DNS' && !out.get(n)) ?? 'Delivery';
    const name = out.get('NetworkPolicy')?.state === 'dropped' ? 'NetworkPolicy' : (layerOfDrop(reason) ?? first);
    stopAt = name;
    stopLayer = layer(
      name,
      'dropped',
      `stopped at ${drop.node}'s agent: ${drop.detail}`,
      {
        ...(out.get(name)?.fields ?? {}),
        reason,
        node: drop.node,
      },
      drop.node,
    );
    stopLayer.reason = reason;
  } else if (i.final && (i.result.verdict === 'LOST' || i.result.verdict === 'DROPPED')) {
    stopAt = LADDER.find((n) => !out.get(n)) ?? 'Delivery';
    stopLayer = layer(stopAt, 'dropped', i.result.summary, {}, undefined);
    stopLayer.reason = i.result.reason ?? 'lost';
  }
  if (stopAt && stopLayer) out.set(stopAt, stopLayer);
  const stopIndex = stopAt ? LADDER.indexOf(stopAt) : LADDER.length;
  return LADDER.map((name, n) => {
    const l = out.get(name);
    if (n > stopIndex) return layer(name, 'skipped', `not reached: the probe stopped at ${stopAt}`);
    if (l) return l;
    return i.final ? layer(name, 'skipped', 'no agent reported this layer') : layer(name, 'pending', 'not reached yet');
  });
}
