import type { FlowEvent } from '../observe/index.js';
import type { UiDrop, UiFlow, UiFlowBatch, UiHop } from './contract.js';
import type { AddressBook } from './topology-model.js';

/**
 * Folding the agents' flow events into what a page can draw (pure; the clock and the address book
 * are given). An agent emits an event per new flow, per TCP flag change, per drop and once a second
 * per busy flow; under iperf3 that is still far more than a browser wants to animate one by one, so
 * a window (≈ 500 ms) keeps ONE entry per conversation with a count, at most `maxFlows` entries, and
 * counts what did not fit. The two agents of a cross-node flow each report it: their entries merge
 * under the same key, the more complete path winning.
 */

/** Flow kinds that are conversations (DNS messages and policy verdicts are about a flow, not one). */
const FLOW_KINDS = new Set(['new', 'update', 'flags', 'drop', 'translated']);

const RANK: Record<UiFlow['verdict'], number> = { FORWARDED: 0, TRANSLATED: 1, DROPPED: 2 };

export const flowKey = (e: Pick<FlowEvent, 'proto' | 'src' | 'dst' | 'dstPort'>): string =>
  `${e.proto}:${e.src}>${e.dst}${e.dstPort !== undefined ? `:${e.dstPort}` : ''}`;

/** The hops a flow event took, as far as one agent's event and the address book tell. */
export function pathOf(e: FlowEvent, book: AddressBook): { path: UiHop[]; srcNode?: string; dstNode?: string } {
  const srcPod = book.pod(e.src);
  // after a Service's translation the packet goes to the backend, not the VIP
  const finalDst = e.newDst ?? e.dst;
  const dstPod = book.pod(finalDst);
  const peer = e.peerNode ? (book.node(e.peerNode) ?? e.peerNode) : undefined;
  const srcNode = srcPod?.node || (e.from === 'from-pods' ? e.node : undefined);
  const dstNode =
    e.to === 'local-pod' ? e.node : e.to === 'vxlan' ? peer : e.to === 'underlay' ? undefined : dstPod?.node;
  const path: UiHop[] = [];
  if (srcPod && srcNode) path.push({ kind: 'pod', id: srcPod.id }, { kind: 'bridge', node: srcNode });
  else if (e.from === 'from-underlay' && !srcPod) path.push({ kind: 'underlay', node: e.node });
  const firstAgent = srcNode ?? e.node;
  path.push({ kind: 'agent', node: firstAgent });
  if (e.service) path.push({ kind: 'service', id: e.service });
  if (dstNode && dstNode !== firstAgent)
    path.push({ kind: 'vxlan', from: firstAgent, to: dstNode }, { kind: 'agent', node: dstNode });
  if (dstPod && (dstNode ?? dstPod.node))
    path.push({ kind: 'bridge', node: dstNode ?? dstPod.node }, { kind: 'pod', id: dstPod.id });
  else if (e.to === 'underlay') path.push({ kind: 'underlay', node: e.node });
  return { path, srcNode, dstNode };
}

/** One event as a UiFlow entry of its own (events: 1). */
export function flowOf(e: FlowEvent, book: AddressBook): UiFlow {
  const { path, srcNode, dstNode } = pathOf(e, book);
  const srcPod = book.pod(e.src)?.id;
  const dstIp = e.dst;
  const dstPod = book.pod(dstIp)?.id;
  const flow: UiFlow = {
    key: flowKey(e),
    proto: e.proto,
    src: { ip: e.src, ...(srcPod ? { pod: srcPod } : {}), ...(srcNode ? { node: srcNode } : {}) },
    dst: {
      ip: dstIp,
      ...(dstPod ? { pod: dstPod } : {}),
      ...(dstNode && !e.newDst ? { node: dstNode } : {}),
      ...(e.dstPort !== undefined ? { port: e.dstPort } : {}),
    },
    verdict: e.verdict,
    path,
    events: 1,
    lastSeen: e.time,
  };
  if (e.service) flow.service = e.service;
  if (e.backend) flow.backend = e.backend;
  else if (e.newDst) flow.backend = book.pod(e.newDst)?.id ?? `${e.newDst}${e.newDstPort ? `:${e.newDstPort}` : ''}`;
  if (e.verdict === 'DROPPED') {
    if (e.reason) flow.reason = e.reason;
    // the agent that dropped it: the hop is that node's agent; the drawn path ends there
    let hop = path.findIndex((h) => h.kind === 'agent' && h.node === e.node);
    if (hop < 0) {
      path.push({ kind: 'agent', node: e.node });
      hop = path.length - 1;
    }
    flow.path = path.slice(0, hop + 1);
    flow.dropAt = { node: e.node, hop };
  }
  return flow;
}

function merge(into: UiFlow, f: UiFlow): void {
  into.events += f.events;
  into.lastSeen = f.lastSeen > into.lastSeen ? f.lastSeen : into.lastSeen;
  into.service ??= f.service;
  into.backend ??= f.backend;
  into.src.node ??= f.src.node;
  into.dst.node ??= f.dst.node;
  if (RANK[f.verdict] > RANK[into.verdict]) {
    into.verdict = f.verdict;
    into.path = f.path;
    into.reason = f.reason;
    into.dropAt = f.dropAt;
  } else if (f.verdict === into.verdict && f.verdict !== 'DROPPED' && f.path.length > into.path.length)
    into.path = f.path;
}

export interface FlowAggregatorOptions {
  book: () => AddressBook;
  windowMs?: number;
  /** entries per window; further conversations only count in `overflow` */
  maxFlows?: number;
}

export class FlowAggregator {
  private window = new Map<string, UiFlow>();
  private overflow = 0;
  readonly windowMs: number;
  private readonly maxFlows: number;

  constructor(private readonly opts: FlowAggregatorOptions) {
    this.windowMs = opts.windowMs ?? 500;
    this.maxFlows = opts.maxFlows ?? 500;
  }

  /** Fold one agent event in; false when it is not a conversation (DNS message, policy verdict). */
  add(e: FlowEvent): boolean {
    if (!FLOW_KINDS.has(e.kind) || typeof e.src !== 'string' || typeof e.dst !== 'string') return false;
    const key = flowKey(e);
    const have = this.window.get(key);
    if (!have && this.window.size >= this.maxFlows) {
      this.overflow++;
      return true;
    }
    const f = flowOf(e, this.opts.book());
    if (have) merge(have, f);
    else this.window.set(key, f);
    return true;
  }

  /** The window's batch (null when nothing happened), and a fresh window. */
  flush(): UiFlowBatch | null {
    if (!this.window.size && !this.overflow) return null;
    const batch: UiFlowBatch = { windowMs: this.windowMs, flows: [...this.window.values()] };
    if (this.overflow) batch.overflow = this.overflow;
    this.window = new Map();
    this.overflow = 0;
    return batch;
  }
}

/** A drop as the page's drop list shows it. */
export function dropOf(e: FlowEvent, book: AddressBook): UiDrop {
  const end = (ip: string, port?: number) => (port !== undefined ? `${ip}:${port}` : ip);
  const srcPod = book.pod(e.src)?.id;
  const dstPod = book.pod(e.dst)?.id;
  return {
    time: e.time,
    node: e.node,
    reason: e.reason ?? 'unknown',
    ...(e.detail ? { detail: e.detail } : {}),
    proto: e.proto,
    src: end(e.src, e.srcPort),
    dst: end(e.dst, e.dstPort),
    ...(srcPod ? { srcPod } : {}),
    ...(dstPod ? { dstPod } : {}),
  };
}

/**
 * At most `perSecond` drop events a second (a default-deny under load drops thousands): the rest
 * are counted, and the next drop let through says how many it stands for (`suppressed`).
 */
export class DropLimiter {
  private windowStart = -Infinity;
  private sent = 0;
  private suppressed = 0;

  constructor(
    private readonly clock: () => number = Date.now,
    private readonly perSecond = 20,
  ) {}

  /** The drop to send now, or null when it is folded into the count. */
  admit(d: UiDrop): UiDrop | null {
    const now = this.clock();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.sent = 0;
    }
    if (this.sent >= this.perSecond) {
      this.suppressed++;
      return null;
    }
    this.sent++;
    if (!this.suppressed) return d;
    const out = { ...d, suppressed: this.suppressed };
    this.suppressed = 0;
    return out;
  }
}
