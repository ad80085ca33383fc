import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, ipv4ToString, cidrContains } from '../packet/index.js';
import {
  DIR_EGRESS,
  DIR_INGRESS,
  ISOLATED_EGRESS,
  ISOLATED_INGRESS,
  PROTO_SCTP,
  VERDICT_DENY,
  VERDICT_OPEN,
  directionName,
  ruleText,
  verdictText,
  type Direction,
  type PolicySet,
} from '../policy/index.js';
import type { PipelineContext } from './context.js';
import { DROP } from './drop-reasons.js';
import { CT_POLICY } from './lb-state.js';

/**
 * NetworkPolicy, per packet: the verdict for a new connection, made once
 * and remembered in the conntrack table the Service stage shares, so
 * replies and later packets of an allowed connection pass both ways
 * without being judged again, as Cilium's and Calico's do.
 *
 *   from-pods:     policyFromPod after the Service stage (a Service flow is
 *                  judged on its backend and target port) and before the
 *                  route: egress of the source pod, and ingress of the
 *                  destination when it is a pod of this node
 *   from-underlay: policyToLocalPod for frames to a pod here, decapsulated
 *                  (a peer judged the egress) or native NodePort/LB traffic
 *                  DNATed to a local backend: ingress
 *
 * Every pod flow of the node is tracked once the stage is on (a policy-only
 * entry, CT_POLICY, where the Service stage made none): so a connection
 * that was allowed stays allowed when a policy changes (what Cilium and
 * Calico do: established connections keep their conntrack entry; new ones
 * get the new verdict), and `conntrack list` shows every flow.
 * Traffic from the pod's own node (its addresses, the Service SNAT address)
 * is always allowed, as Kubernetes requires. ICMP errors pass (RELATED);
 * ICMP echo is tracked by its identifier. Later fragments pass: only a
 * datagram's first fragment carries the ports a verdict needs (the flow's
 * first fragment was judged).
 *
 * Drops: policy-denied-ingress, policy-denied-egress (detail: the flow, the
 * isolating policies, "no rule allowed it"). Trace stage: policy.
 */

const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;

// The frame at hand's flow, read once by readFlow (no allocation).
let proto = 0;
let sport = 0;
let dport = 0;
let tcpFlags = 0;
/** the frame is a reply-direction ICMP echo (matched against the request's entry) */
let echoReply = false;

/** Reads ports (or the echo identifier). False: nothing to judge (ICMP error, later fragment, short header). */
function readFlow(ctx: PipelineContext, buf: Buffer): boolean {
  const ip = ctx.ip;
  proto = ip.protocol;
  if (ip.fragmentOffsetBytes !== 0) return false;
  const l4 = ip.payloadOffset;
  const len = ip.payloadLength;
  echoReply = false;
  tcpFlags = 0;
  if (proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === PROTO_SCTP) {
    if (len < (proto === IPPROTO_TCP ? 20 : 8)) return false;
    sport = (buf[l4] << 8) | buf[l4 + 1];
    dport = (buf[l4 + 2] << 8) | buf[l4 + 3];
    if (proto === IPPROTO_TCP) tcpFlags = buf[l4 + 13];
    return true;
  }
  if (proto === IPPROTO_ICMP) {
    if (len < 8) return false;
    const type = buf[l4];
    if (type !== ICMP_ECHO_REQUEST && type !== ICMP_ECHO_REPLY) return false; // errors: RELATED, they pass
    const id = (buf[l4 + 4] << 8) | buf[l4 + 5];
    // a request's tuple is (id, 0); its reply's (0, id): the reply tuple of the request's entry
    echoReply = type === ICMP_ECHO_REPLY;
    sport = echoReply ? 0 : id;
    dport = echoReply ? id : 0;
    return true;
  }
  sport = 0;
  dport = 0;
  return true; // other protocols: judged without ports, not tracked
}

const tracked = (p: number) => p === IPPROTO_TCP || p === IPPROTO_UDP || p === IPPROTO_ICMP || p === PROTO_SCTP;

/** Is this source the node itself (its addresses, or the Service SNAT address it rewrites sources to)? */
function fromNode(ctx: PipelineContext, src: number): boolean {
  return ctx.id.localAddresses.has(src) || (ctx.lb !== null && src === ctx.lb.snatIp);
}

/** The compiled set when the frame at hand is a new flow policy must judge; null when it passes as it is. */
function newFlow(ctx: PipelineContext, buf: Buffer): PolicySet | null {
  const set = ctx.policy;
  if (set === null || ctx.lb === null || ctx.ctKnown) return null;
  if (!readFlow(ctx, buf) || known(ctx)) return null;
  return set;
}

/** A pod's packet after the Service stage; false when policy dropped it. */
export function policyFromPod(ctx: PipelineContext, buf: Buffer): boolean {
  const set = newFlow(ctx, buf);
  if (set === null) return true;
  const src = ctx.ip.src;
  const dst = ctx.ip.dst;
  const local = cidrContains(ctx.id.podCidr, dst);
  const node = fromNode(ctx, src);
  if (!node && (set.isolation(src) & ISOLATED_EGRESS) !== 0 && !judged(ctx, set, DIR_EGRESS, src, dst)) return false;
  if (local && !node && (set.isolation(dst) & ISOLATED_INGRESS) !== 0 && !judged(ctx, set, DIR_INGRESS, dst, src))
    return false;
  // Pod ↔ outside flows are tracked by masquerade, pod → node by nobody (the node always may answer).
  return cidrContains(ctx.lb!.clusterCidr, dst) ? track(ctx, src, dst, set, local ? dst : -1, src) : true;
}

/** A frame for a pod of this node from eth0 (decapsulated, or native NodePort/LB traffic the Service stage DNATed); false when dropped. */
export function policyToLocalPod(ctx: PipelineContext, buf: Buffer): boolean {
  const set = newFlow(ctx, buf);
  if (set === null) return true;
  const src = ctx.ip.src;
  const dst = ctx.ip.dst;
  if (!fromNode(ctx, src) && (set.isolation(dst) & ISOLATED_INGRESS) !== 0 && !judged(ctx, set, DIR_INGRESS, dst, src))
    return false;
  return track(ctx, src, dst, set, dst, -1);
}

/** A packet of a flow tracked already (the Service stage looks up only TCP and UDP, and only translating entries count there). */
function known(ctx: PipelineContext): boolean {
  const lb = ctx.lb!;
  if (!tracked(proto) || lb.conntrack.size === 0 || ctx.ctCreated >= 0) return false;
  const ip = ctx.ip;
  const e = lb.conntrack.lookup(proto, ip.src, sport, ip.dst, dport);
  if (e < 0) return false;
  lb.conntrack.seen(e >> 1, (e & 1) as 0 | 1, tcpFlags, ip.totalLength);
  if (ctx.curProbe)
    ctx.stage(
      'policy',
      `established ${protoNameOf(proto)} connection (conntrack ${(e & 1) === 0 ? 'original' : 'reply'} direction): allowed without a new verdict`,
      { established: true },
    );
  return true;
}

/** Judge one direction; counts it, drops on deny. */
function judged(ctx: PipelineContext, set: PolicySet, dir: Direction, pod: number, peer: number): boolean {
  // (an echo reply with no tracked request is judged as any ICMP: only rules without ports admit it)
  const v = set.judge(dir, pod, peer, proto, dport);
  set.count(dir, pod, v);
  if (v === VERDICT_DENY) {
    // the Service stage may have made an entry for this flow already: it goes with it
    if (ctx.ctCreated >= 0) {
      ctx.lb!.conntrack.remove(ctx.ctCreated);
      ctx.ctCreated = -1;
    }
    if (ctx.curProbe)
      ctx.stage('policy', verdictText(set, dir, pod, peer, proto, dport, v), {
        verdict: 'denied',
        direction: directionName(dir),
        policies: set.isolatedBy(pod, dir).map((p) => p.key),
      });
    const reason = dir === DIR_INGRESS ? DROP['policy-denied-ingress'] : DROP['policy-denied-egress'];
    ctx.drop(reason, ctx.tracer !== null ? verdictText(set, dir, pod, peer, proto, dport, v) : undefined);
    return false;
  }
  if (v !== VERDICT_OPEN) {
    if (ctx.curProbe) {
      const r = set.rule(v)!;
      ctx.stage('policy', verdictText(set, dir, pod, peer, proto, dport, v), {
        verdict: 'allowed',
        direction: directionName(dir),
        policy: r.policy.key,
        rule: ruleText(r),
      });
    }
    const tr = ctx.tracer;
    if (tr !== null && tr.policyAllowed) {
      const r = set.rule(v)!;
      tr.policyAllowed({
        direction: directionName(dir),
        pod,
        peer,
        proto,
        sport,
        dport,
        policy: r.policy.key,
        rule: `${directionName(dir)}[${r.index}]`,
        text: verdictText(set, dir, pod, peer, proto, dport, v),
      });
    }
  } else if (ctx.curProbe) {
    ctx.stage('policy', `${directionName(dir)} of ${ipv4ToString(pod)}: no policy isolates it (open)`, {
      verdict: 'open',
      direction: directionName(dir),
    });
  }
  return true;
}

/**
 * Remember an allowed new flow (when the Service stage did not already):
 * replies then match the entry's reply tuple. A full table refuses the
 * flow only when policy needs the entry (an isolated pod would drop the
 * replies); otherwise the flow goes on untracked.
 */
function track(
  ctx: PipelineContext,
  src: number,
  dst: number,
  set: PolicySet,
  ingressPod: number,
  egressPod: number,
): boolean {
  if (!tracked(proto) || ctx.ctCreated >= 0 || echoReply) return true;
  const lb = ctx.lb!;
  const ip = ctx.ip;
  const e = lb.conntrack.create(proto, src, sport, dst, dport, dst, dport, src, sport, -1, CT_POLICY);
  if (e < 0) {
    const needed =
      (ingressPod >= 0 && set.isolation(ingressPod) !== 0) || (egressPod >= 0 && set.isolation(egressPod) !== 0);
    if (!needed) return true;
    ctx.drop(DROP['conntrack-full'], 'policy');
    return false;
  }
  lb.conntrack.seen(e, 0, tcpFlags, ip.totalLength);
  if (ctx.curProbe)
    ctx.stage(
      'conntrack',
      `new entry ${protoNameOf(proto)} ${ipv4ToString(src)}:${sport} -> ${ipv4ToString(dst)}:${dport} (tracked for policy: its replies pass)`,
      { new: true, policy: true },
    );
  return true;
}

function protoNameOf(p: number): string {
  return p === IPPROTO_TCP
    ? 'TCP'
    : p === IPPROTO_UDP
      ? 'UDP'
      : p === PROTO_SCTP
        ? 'SCTP'
        : p === IPPROTO_ICMP
          ? 'ICMP'
          : `proto ${p}`;
}

export { VERDICT_DENY, DIR_INGRESS, DIR_EGRESS };
