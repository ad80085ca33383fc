import type { UiDrop, UiFlow, UiFlowBatch, UiHop } from '../contract.js';

/**
 * The page's pure logic: folding the server's flow batches and drops into bounded state, the
 * filters, and the words a flow is described with. No DOM here, so it is unit-tested in Node
 * (test/unit/ui-web-store.test.ts) and the page's responsiveness under load rests on the caps.
 */

/** at most this many flows are kept; the oldest by lastSeen go first */
export const FLOW_CAP = 200;
/** a flow not seen for this long leaves the picture */
export const FLOW_TTL_MS = 60_000;
/** the last drops listed (the aria-live list) */
export const DROP_CAP = 25;

export interface FlowEntry extends UiFlow {
  /** when the page last heard of it (ms, the page's clock: the server's lastSeen is for display) */
  seenAt: number;
  /** events summed over every window since the flow appeared */
  total: number;
}

/** One flow batch into the map: one entry per key (never per packet), bounded by FLOW_CAP and the TTL. */
export function mergeFlows(
  prev: ReadonlyMap<string, FlowEntry>,
  batch: UiFlowBatch,
  now: number,
  cap = FLOW_CAP,
): Map<string, FlowEntry> {
  const next = new Map<string, FlowEntry>();
  for (const [k, f] of prev) if (now - f.seenAt <= FLOW_TTL_MS) next.set(k, f);
  for (const f of batch.flows) {
    const old = next.get(f.key);
    next.delete(f.key); // re-inserted last: Map order is then oldest-first
    next.set(f.key, { ...f, seenAt: now, total: (old?.total ?? 0) + f.events });
  }
  while (next.size > cap) next.delete(next.keys().next().value as string);
  return next;
}

export function pushDrop(prev: readonly UiDrop[], d: UiDrop, cap = DROP_CAP): UiDrop[] {
  return [d, ...prev].slice(0, cap);
}

export interface FlowFilter {
  namespace: string;
  pod: string;
  service: string;
  verdict: '' | UiFlow['verdict'];
}
export const NO_FILTER: FlowFilter = { namespace: '', pod: '', service: '', verdict: '' };

const nsOf = (id?: string) => (id && id.includes('/') ? id.split('/')[0] : undefined);

export function flowMatches(f: UiFlow, filter: FlowFilter): boolean {
  if (filter.verdict && f.verdict !== filter.verdict) return false;
  if (filter.service && f.service !== filter.service) return false;
  if (filter.namespace) {
    const spaces = [nsOf(f.src.pod), nsOf(f.dst.pod), nsOf(f.service), nsOf(f.backend)];
    if (!spaces.includes(filter.namespace)) return false;
  }
  if (filter.pod) {
    const needle = filter.pod.toLowerCase();
    const names = [f.src.pod, f.dst.pod, f.backend, f.src.ip, f.dst.ip];
    if (!names.some((n) => n && n.toLowerCase().includes(needle))) return false;
  }
  return true;
}

/** The drops list follows the namespace and pod filters too (a lab's own drops — not-ours on the API server's port — can be filtered away). */
export function dropFiltered(d: UiDrop, filter: FlowFilter): boolean {
  if (filter.namespace && ![nsOf(d.srcPod), nsOf(d.dstPod)].includes(filter.namespace)) return false;
  if (filter.pod) {
    const needle = filter.pod.toLowerCase();
    if (![d.srcPod, d.dstPod, d.src, d.dst].some((n) => n && n.toLowerCase().includes(needle))) return false;
  }
  return true;
}

export function endpointName(e: { ip: string; pod?: string }): string {
  return e.pod ?? e.ip;
}

export function hopLabel(h: UiHop): string {
  switch (h.kind) {
    case 'pod':
      return `pod ${h.id}`;
    case 'bridge':
      return `cbr0 on ${h.node}`;
    case 'agent':
      return `agent on ${h.node}`;
    case 'vxlan':
      return `VXLAN ${h.from} → ${h.to} over eth0`;
    case 'underlay':
      return `eth0 of ${h.node} (underlay)`;
    case 'service':
      return `Service ${h.id}`;
  }
}

/** "default/client → default/web tcp/80 FORWARDED" — the flow's name wherever it is shown */
export function flowTitle(f: UiFlow): string {
  const port = f.dst.port !== undefined ? `/${f.dst.port}` : '';
  const via = f.service ? ` via Service ${f.service}${f.backend ? ` → ${f.backend}` : ''}` : '';
  return `${endpointName(f.src)} → ${endpointName(f.dst)}${via} ${f.proto}${port} ${f.verdict}`;
}

export function describePath(f: UiFlow): string {
  return f.path
    .map((h, i) =>
      f.dropAt && f.dropAt.hop === i ? `✖ ${hopLabel(h)} (dropped: ${f.reason ?? 'no reason given'})` : hopLabel(h),
    )
    .join(' → ');
}

/** Break-on-drop's filter: every word of it must occur in the drop's text (case-insensitive); empty matches any drop. */
export function dropMatches(filter: string, d: UiDrop | UiFlow): boolean {
  const text = ('key' in d ? `${flowTitle(d)} ${d.reason ?? ''} ${d.dropAt?.node ?? ''}` : dropText(d)).toLowerCase();
  return filter
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => text.includes(w));
}

export function dropText(d: UiDrop): string {
  const src = d.srcPod ?? d.src;
  const dst = d.dstPod ?? d.dst;
  const more = d.suppressed ? ` (+${d.suppressed} more)` : '';
  return `${d.node}: ${d.proto} ${src} → ${dst} dropped: ${d.reason}${d.detail ? ` (${d.detail})` : ''}${more}`;
}
