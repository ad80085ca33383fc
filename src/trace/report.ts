/**
 * Turn what `trace` saw into layers, in order, and a verdict: where the probe
 * stopped and why. Pure: the CLI gathers, this explains.
 */
export interface InjectReport {
  pod: string;
  route?: { gateway?: string; dev?: string; src?: string } | null;
  mtu?: number;
  gateway?: string;
  gatewayMac?: string | null;
  arpMs?: number;
  sent: boolean;
  error?: string;
}

export interface AgentEvent {
  node: string;
  time: number;
  stage: string;
  detail: string;
  data?: Record<string, unknown>;
}

export interface TraceInput {
  inject: InjectReport;
  events: AgentEvent[];
  /** agents that could not be asked (not running) */
  agentsDown: string[];
  srcNode: string;
  /** where the probe was to end: for a Service, the backend its stage chose (`via` names the Service, `sentTo` the address the pod sent to) */
  dst: { ip: string; pod?: string; node?: string; via?: string; sentTo?: string };
  arrival?: { arrived: boolean; ttl?: number } | null;
  pathMtu: number;
}

export interface Layer {
  where: string;
  what: string;
}

export interface TraceResult {
  layers: Layer[];
  /** DNS-FAILED: the name did not resolve (the trace resolves a name first, as the pod would) */
  verdict: 'DELIVERED' | 'DROPPED' | 'LOST' | 'ANSWERED-BY-NODE' | 'DNS-FAILED';
  summary: string;
  /** the drop reason, when the verdict is DROPPED; for DNS-FAILED why (nxdomain, no-answer, refused, … or the drop reason on the path to the nameserver) */
  reason?: string;
}

export function explainTrace(t: TraceInput): TraceResult {
  const layers: Layer[] = [];
  const i = t.inject;
  const pod = i.pod;
  if (i.error && !i.route) {
    layers.push({ where: pod, what: `route: ${i.error}` });
    return { layers, verdict: 'LOST', summary: `the source pod has no route to ${t.dst.sentTo ?? t.dst.ip}` };
  }
  layers.push({
    where: pod,
    what: `route: ${t.dst.sentTo ?? t.dst.ip} via ${i.route?.gateway ?? '(on-link)'} dev ${i.route?.dev ?? '?'}, MTU ${i.mtu ?? '?'}`,
  });
  if (!i.gatewayMac) {
    layers.push({ where: pod, what: `gateway ARP: ${i.gateway ?? '?'} did not answer` });
    return {
      layers,
      verdict: 'LOST',
      summary: `the gateway ${i.gateway} did not answer ARP: is ${t.srcNode}'s cbr0 up?`,
    };
  }
  layers.push({
    where: pod,
    what: i.route?.gateway
      ? `gateway ARP: ${i.gateway} is at ${i.gatewayMac} (answered in ${i.arpMs ?? '?'} ms)`
      : `ARP: ${i.gateway} (same subnet) is at ${i.gatewayMac}: the node agent answers for its pods, so even same-node traffic goes through it (${i.arpMs ?? '?'} ms)`,
  });
  if (i.mtu && i.mtu > t.pathMtu) {
    layers.push({
      where: pod,
      what: `warning: this pod's MTU ${i.mtu} is above the path MTU ${t.pathMtu} (1500 − 50 VXLAN overhead)`,
    });
  }
  // Causal order, not clock order: the probe visits the source node's agent
  // first, then the next node's; each agent's stream is already in order.
  // (Millisecond timestamps from two processes cannot order events that
  // happen within the same millisecond.)
  const events = t.events
    .map((e, i) => ({ e, i }))
    .sort((x, y) => Number(x.e.node !== t.srcNode) - Number(y.e.node !== t.srcNode) || x.i - y.i)
    .map((x) => x.e);
  for (const e of events) layers.push({ where: `${e.node} agent`, what: `${e.stage}: ${e.detail}` });
  const drop = events.find((e) => e.stage === 'drop');
  if (drop) {
    const reason = String(drop.data?.reason ?? 'unknown');
    return { layers, verdict: 'DROPPED', reason, summary: `stopped at ${drop.node}'s agent: ${drop.detail}` };
  }
  if (events.some((e) => e.stage === 'to-host')) {
    return {
      layers,
      verdict: 'ANSWERED-BY-NODE',
      summary: `${t.dst.ip} is a node address: the node's kernel answers it`,
    };
  }
  if (t.arrival?.arrived) {
    layers.push({ where: t.dst.pod ?? t.dst.ip, what: `eth0: the probe arrived (TTL ${t.arrival.ttl})` });
    return {
      layers,
      verdict: 'DELIVERED',
      summary: `delivered to ${t.dst.pod ?? t.dst.ip}${t.dst.via ? ` through ${t.dst.via}` : ''}`,
    };
  }
  const last = events[events.length - 1];
  if (!last) {
    const down = t.agentsDown.includes(t.srcNode);
    return {
      layers,
      verdict: 'LOST',
      summary: down
        ? `${t.srcNode}'s agent is not running: nothing forwards the pod's packets`
        : `the probe never reached ${t.srcNode}'s agent`,
    };
  }
  if (last.stage === 'encap') {
    const peer = String(last.data?.outerDst ?? '');
    const peerNode = t.dst.node;
    if (peerNode && t.agentsDown.includes(peerNode)) {
      return {
        layers,
        verdict: 'LOST',
        summary: `sent over VXLAN to ${peerNode} (${peer}), but ${peerNode}'s agent is not running: nothing decapsulates it`,
      };
    }
    return {
      layers,
      verdict: 'LOST',
      summary: `sent over VXLAN to ${peer}; no agent there reported it (a node outside the lab, or the underlay lost it)`,
    };
  }
  if (last.stage === 'egress') {
    return {
      layers,
      verdict: 'DELIVERED',
      summary: `handed to the underlay for ${t.dst.ip}${t.dst.via ? ` (through ${t.dst.via})` : ''}: outside the cluster, not seen arriving`,
    };
  }
  if (last.stage === 'deliver') {
    return {
      layers,
      verdict: t.dst.pod ? 'LOST' : 'DELIVERED',
      summary: t.dst.pod ? `handed to ${t.dst.pod}'s port but not seen on its eth0` : `handed to ${t.dst.ip}'s port`,
    };
  }
  return { layers, verdict: 'LOST', summary: `last seen at ${last.node}'s agent (${last.stage})` };
}

export function formatTrace(r: TraceResult, title: string): string {
  const w = Math.max(...r.layers.map((l) => l.where.length));
  return [
    title,
    ...r.layers.map((l, n) => `${String(n + 1).padStart(2)}. ${l.where.padEnd(w)}  ${l.what}`),
    `${r.verdict}: ${r.summary}`,
  ].join('\n');
}
