import {
  ETHERNET_HEADER_SIZE,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCP_SYN,
  VNET_HDR_F_NEEDS_CSUM,
  ICMP_DEST_UNREACHABLE,
  natSetDst,
  natSetSrc,
  ipv4ToString,
  cidrContains,
} from '../packet/index.js';
import { answerSender } from './answer-sender.js';
import { setAddr, unNatIcmpError } from './icmp-nat.js';
import { formatFrontend, lbFlowHash, protoName, type Frontend } from '../lb/index.js';
import type { PipelineContext } from './context.js';
import { DROP } from './drop-reasons.js';
import { CT_DNAT, CT_FROM_UNDERLAY, CT_MASQ, CT_SNAT, CT_TRANSLATES } from './lb-state.js';
import { askUnderlay } from './to-underlay.js';

/**
 * kube-proxy's job, per packet: connection tracking, Service DNAT with
 * reverse NAT on replies, SNAT where the return path needs it, and pod
 * egress masquerade. Hook points:
 *
 *   from-pods:     natFromPod before the route (a frontend rewrites the
 *                  destination; a reply of a translated flow gets its
 *                  Service address back)
 *   from-underlay: natFromUnderlay for native frames on eth0 (NodePort,
 *                  LoadBalancer/external IPs, replies to masqueraded flows);
 *                  natFromOverlay for decapsulated frames (replies only:
 *                  the client's node translated the flow)
 *   route:         masquerade() when a pod's packet leaves the cluster
 *
 * Each returns NAT_PASS (not ours: route as before), NAT_DONE (rewritten:
 * route on the new addresses; ctx.ip reads them) or NAT_CONSUMED (dropped
 * or answered). Checksums are patched incrementally (packet/nat.ts), also
 * for GSO super-frames with partial checksums. Nothing here allocates for
 * a packet of a known flow.
 *
 * Drops: no-endpoints, etp-local-no-endpoint, no-service-port,
 * conntrack-full, stale-backend, nat-ports-exhausted, not-ours.
 * Trace stages: conntrack, service, nat, masquerade.
 */

export const NAT_PASS = 0;
export const NAT_DONE = 1;
export const NAT_CONSUMED = 2;

const ETH = ETHERNET_HEADER_SIZE;
const ICMP_CODE_PORT_UNREACHABLE = 3;
const ICMP_CODE_FRAG_NEEDED = 4;

// The frame at hand's transport fields, read once by readPorts (no allocation).
let sport = 0;
let dport = 0;
let tcpFlags = 0;

/** TCP or UDP with a whole header, not a later fragment: reads the ports. */
function readPorts(ctx: PipelineContext, buf: Buffer): boolean {
  const ip = ctx.ip;
  const proto = ip.protocol;
  if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return false;
  if (ip.fragmentOffsetBytes !== 0) return false; // a later fragment: no ports here (laterFragment)
  const l4 = ip.payloadOffset;
  if (ip.payloadLength < (proto === IPPROTO_TCP ? 20 : 8)) return false;
  sport = (buf[l4] << 8) | buf[l4 + 1];
  dport = (buf[l4 + 2] << 8) | buf[l4 + 3];
  tcpFlags = proto === IPPROTO_TCP ? buf[l4 + 13] : 0;
  return true;
}

const partialCsum = (buf: Buffer, slot: number) => (buf[slot] & VNET_HDR_F_NEEDS_CSUM) !== 0;

/** A pod's packet (from-pods, before the route). */
export function natFromPod(ctx: PipelineContext, buf: Buffer, slot: number): number {
  const lb = ctx.lb!;
  ctx.ctKnown = false;
  ctx.ctCreated = -1;
  if (!readPorts(ctx, buf)) return notTranslatable(ctx, buf);
  const ip = ctx.ip;
  const proto = ip.protocol;
  const e = lb.conntrack.size > 0 ? lb.conntrack.lookup(proto, ip.src, sport, ip.dst, dport) : -1;
  if (e >= 0) return translate(ctx, buf, slot, e);
  const dst = ip.dst;
  let fe = lb.table.lookup(dst, dport, proto);
  if (fe === undefined && ctx.id.localAddresses.has(dst)) fe = lb.table.lookupNodePort(dport, proto);
  if (fe !== undefined) return newServiceFlow(ctx, buf, slot, fe, false);
  if (lb.isServiceAddress(dst) && !ctx.id.localAddresses.has(dst)) {
    reject(ctx, buf, slot);
    ctx.drop(DROP['no-service-port'], `${ipv4ToString(dst)}:${dport}/${protoName(proto)}`);
    return NAT_CONSUMED;
  }
  return NAT_PASS;
}

/** A decapsulated frame from a peer node: only replies of flows this node translated. */
export function natFromOverlay(ctx: PipelineContext, buf: Buffer, slot: number): number {
  const lb = ctx.lb!;
  ctx.ctKnown = false;
  ctx.ctCreated = -1;
  if (lb.conntrack.size === 0) return NAT_PASS;
  if (!readPorts(ctx, buf)) return notTranslatable(ctx, buf);
  const ip = ctx.ip;
  const e = lb.conntrack.lookup(ip.protocol, ip.src, sport, ip.dst, dport);
  return e >= 0 ? translate(ctx, buf, slot, e) : NAT_PASS;
}

/**
 * A native frame on eth0 (not VXLAN): a reply to a masqueraded flow, a
 * packet of a NodePort / LoadBalancer / external-IP flow, or a new one.
 * Returns NAT_PASS for what is not ours (the caller counts it as before).
 */
export function natFromUnderlay(ctx: PipelineContext, buf: Buffer, slot: number): number {
  const lb = ctx.lb!;
  ctx.ctKnown = false;
  ctx.ctCreated = -1;
  if (!readPorts(ctx, buf)) return ctx.ip.fragmentOffsetBytes !== 0 ? laterFragment(ctx, buf) : NAT_PASS;
  const ip = ctx.ip;
  const proto = ip.protocol;
  const dst = ip.dst;
  if (proto === IPPROTO_UDP && dport === ctx.id.vxlanPort && dst === ctx.id.nodeIp) return NAT_PASS; // the overlay's
  const e = lb.conntrack.size > 0 ? lb.conntrack.lookup(proto, ip.src, sport, dst, dport) : -1;
  if (e >= 0) return tooBigForPods(ctx, buf, slot) ? NAT_CONSUMED : translate(ctx, buf, slot, e);
  let fe = lb.table.lookup(dst, dport, proto);
  if (fe === undefined && dst === ctx.id.nodeIp) fe = lb.table.lookupNodePort(dport, proto);
  if (fe === undefined) {
    if (dst === ctx.id.nodeIp && lb.kernelPorts.has(dport)) return NAT_CONSUMED; // a health-check port: the node kernel serves it
    // In the ranges the node's filters hand the agent (and keep from its kernel), or steered to us by MAC: ours to refuse.
    if (
      dst !== ctx.id.nodeIp ||
      (dport >= lb.nodePortMin && dport <= lb.nodePortMax) ||
      (dport >= lb.natPortMin && dport <= lb.natPortMax)
    ) {
      ctx.drop(DROP['not-ours'], `${ipv4ToString(dst)}:${dport}/${protoName(proto)}`);
      return NAT_CONSUMED;
    }
    return NAT_PASS;
  }
  if (tooBigForPods(ctx, buf, slot)) return NAT_CONSUMED;
  // Replies go straight back to this client. Its MAC is not the frame's
  // source (a cloud load balancer may have handed the frame on): ask for
  // it now, so the answer is in before the backend's reply is.
  if (ctx.underlayNeighbors.get(ip.src) === undefined) askUnderlay(ctx, ip.src);
  return newServiceFlow(ctx, buf, slot, fe, true);
}

/**
 * The outside's MTU (1500) is above the pods' (1450): a larger packet
 * arriving for a pod is refused with frag-needed quoting it as the sender
 * sent it (before NAT, so the sender can match it), as a router would.
 */
function tooBigForPods(ctx: PipelineContext, buf: Buffer, slot: number): boolean {
  const ip = ctx.ip;
  if (ip.totalLength <= ctx.id.podMtu || (buf[slot + 1] & 0x7f) !== 0) return false; // fits, or a GSO frame (its segments are the size that matters)
  if (ip.dontFragment)
    answerSender(ctx, buf, slot, false, ICMP_DEST_UNREACHABLE, ICMP_CODE_FRAG_NEEDED, ctx.id.podMtu, ctx.id.nodeIp);
  ctx.drop(DROP['mtu-exceeded']);
  return true;
}

/**
 * A packet readPorts could not read: an ICMP error about a translated flow
 * (translated too), a later fragment of a translated datagram (its
 * addresses follow the first fragment's), a TCP/UDP header cut short on
 * its way to a Service (malformed-l4), or none of those (untouched).
 */
function notTranslatable(ctx: PipelineContext, buf: Buffer): number {
  const lb = ctx.lb!;
  const ip = ctx.ip;
  const proto = ip.protocol;
  if (proto === 1) return lb.conntrack.size > 0 && unNatIcmpError(lb, buf, ip.off, ip.len) ? NAT_DONE : NAT_PASS;
  if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return NAT_PASS;
  if (ip.fragmentOffsetBytes !== 0) return laterFragment(ctx, buf);
  if (lb.isServiceAddress(ip.dst)) {
    ctx.drop(DROP['malformed-l4'], `${protoName(proto)} header cut short`);
    return NAT_CONSUMED;
  }
  return NAT_PASS;
}

/**
 * Fragments after the first carry no ports: they get the addresses the
 * first fragment of the same datagram (source, destination, protocol, IP
 * identification) was given, as Cilium tracks fragments instead of
 * reassembling. One that comes before its first fragment is not translated.
 */
function laterFragment(ctx: PipelineContext, buf: Buffer): number {
  const lb = ctx.lb!;
  const ip = ctx.ip;
  const to = lb.fragmentTranslation(ip.protocol, ip.src, ip.dst, ip.id);
  if (to === undefined) return NAT_PASS;
  setAddr(buf, ip.off, 12, to.src);
  setAddr(buf, ip.off, 16, to.dst);
  return NAT_DONE;
}

/** Rewrite a packet of a tracked flow (entry e: id << 1 | direction). */
function translate(ctx: PipelineContext, buf: Buffer, slot: number, e: number): number {
  const lb = ctx.lb!;
  const ct = lb.conntrack;
  const ent = e >> 1;
  const dir = e & 1;
  const ip = ctx.ip;
  ctx.ctKnown = true;
  if ((ct.flags(ent) & CT_TRANSLATES) === 0) {
    // tracked for NetworkPolicy only: nothing to rewrite (policy-stage.ts lets it pass)
    ct.seen(ent, dir as 0 | 1, tcpFlags, ip.totalLength);
    if (ctx.curProbe)
      ctx.stage(
        'conntrack',
        `existing entry ${describeEntry(ctx, ent)}, ${dir === 0 ? 'original' : 'reply'} direction (no translation)`,
        { direction: dir === 0 ? 'original' : 'reply' },
      );
    return NAT_PASS;
  }
  const b = lb.backendOf(ct.owner(ent));
  if (b !== undefined && b.removed && ip.protocol === IPPROTO_TCP) {
    // Its backend left the Service: end the connection rather than let it hang.
    if (dir === 0) reject(ctx, buf, slot);
    ct.remove(ent);
    ctx.drop(DROP['stale-backend'], b.name);
    return NAT_CONSUMED;
  }
  let nsrc: number, nsport: number, ndst: number, ndport: number;
  if (dir === 0) {
    nsrc = ct.replyDst(ent);
    nsport = ct.replyDport(ent);
    ndst = ct.replySrc(ent);
    ndport = ct.replySport(ent);
  } else {
    nsrc = ct.origDst(ent);
    nsport = ct.origDport(ent);
    ndst = ct.origSrc(ent);
    ndport = ct.origSport(ent);
  }
  const bytes = ip.totalLength;
  ct.seen(ent, dir as 0 | 1, tcpFlags, bytes);
  if (b !== undefined) {
    b.packets++;
    b.bytes += bytes;
  }
  if (ctx.curProbe)
    ctx.stage('conntrack', `existing entry ${describeEntry(ctx, ent)}, ${dir === 0 ? 'original' : 'reply'} direction`, {
      direction: dir === 0 ? 'original' : 'reply',
    });
  rewrite(ctx, buf, slot, nsrc, nsport, ndst, ndport);
  return NAT_DONE;
}

/** Apply a translation to the frame at hand, showing it to the capture point and the probe's trace. */
function rewrite(
  ctx: PipelineContext,
  buf: Buffer,
  slot: number,
  nsrc: number,
  nsport: number,
  ndst: number,
  ndport: number,
): void {
  const ip = ctx.ip;
  const ipOff = ip.off;
  const f = ipOff - ETH; // the (inner, for decapsulated frames) Ethernet header
  const tr = ctx.tracer;
  const before = ctx.curProbe ? `${ipv4ToString(ip.src)}:${sport} -> ${ipv4ToString(ip.dst)}:${dport}` : '';
  if (tr !== null && tr.natPoint) tr.natPoint(false, ctx.curPort, buf, f, ip.totalLength + (ipOff - f));
  const partial = partialCsum(buf, slot);
  if (ip.moreFragments) ctx.lb!.rememberFragment(ip.protocol, ip.src, ip.dst, ip.id, nsrc, ndst);
  if (ndst !== ip.dst || ndport !== dport) natSetDst(buf, ipOff, ndst, ndport, partial);
  if (nsrc !== ip.src || nsport !== sport) natSetSrc(buf, ipOff, nsrc, nsport, partial);
  if (tr !== null && tr.natPoint) tr.natPoint(true, ctx.curPort, buf, f, ip.totalLength + (ipOff - f));
  if (ctx.curProbe)
    ctx.stage('nat', `${before} rewritten to ${ipv4ToString(nsrc)}:${nsport} -> ${ipv4ToString(ndst)}:${ndport}`);
}

function describeEntry(ctx: PipelineContext, ent: number): string {
  const ct = ctx.lb!.conntrack;
  const r = ct.row(ent);
  return `${protoName(r.proto)} ${ipv4ToString(r.orig.src)}:${r.orig.sport} -> ${ipv4ToString(r.orig.dst)}:${r.orig.dport} | reply ${ipv4ToString(r.reply.src)}:${r.reply.sport} -> ${ipv4ToString(r.reply.dst)}:${r.reply.dport} [${r.state}]`;
}

/** The first packet of a flow to a Service frontend: choose a backend, track it, translate. */
function newServiceFlow(ctx: PipelineContext, buf: Buffer, slot: number, fe: Frontend, fromUnderlay: boolean): number {
  const lb = ctx.lb!;
  const ip = ctx.ip;
  const proto = fe.proto;
  const src = ip.src;
  if (ctx.curProbe)
    ctx.stage(
      'service',
      `${ipv4ToString(ip.dst)}:${dport}/${protoName(proto)} is ${fe.type} frontend ${frontendText(ctx, fe)} of Service ${fe.service}${fe.portName ? ` (port ${fe.portName})` : ''}: ${fe.backends.length} usable backend(s) of ${fe.allBackends.length}, scheduler ${fe.scheduler.name}`,
      { service: fe.service, frontend: frontendText(ctx, fe), backends: fe.backends.length },
    );
  // externalTrafficPolicy Local is for traffic from outside; pods and the node use every endpoint
  const pool = !fromUnderlay && fe.internal !== undefined ? fe.internal : fe;
  if (pool.backends.length === 0) {
    if (fe.localOnly && fe.type !== 'ClusterIP' && pool === fe) {
      ctx.drop(DROP['etp-local-no-endpoint'], fe.service);
      return NAT_CONSUMED;
    }
    reject(ctx, buf, slot);
    ctx.drop(DROP['no-endpoints'], fe.service);
    return NAT_CONSUMED;
  }
  const now = lb.clock();
  let b = fe.affinityTimeoutMs > 0 ? lb.stickyBackend(fe, src, now) : undefined;
  let why: string;
  if (b !== undefined) {
    lb.stats.affinityHits++;
    why = `sessionAffinity ClientIP: ${ipv4ToString(src)} sticks to ${b.name}`;
  } else {
    const hash = lbFlowHash(proto, src, sport, ip.dst, dport);
    const i = pool.scheduler.pick(hash, src);
    b = pool.backends[i];
    why = ctx.curProbe ? pool.scheduler.explain(hash, src, i) : '';
  }
  if (fe.affinityTimeoutMs > 0) lb.stick(fe, src, b, now);
  // The source becomes the node when the return path needs it: a backend
  // reaching itself through its Service (hairpin), and external traffic
  // with externalTrafficPolicy Cluster (it may go to another node, whose
  // reply must come back here to be un-NATed).
  // A backend outside the pod network (the API server behind `kubernetes`)
  // cannot route to pods: the source becomes the node's underlay address,
  // with a port of the NAT range so the reply reaches the agent.
  const outsideBackend = !cidrContains(lb.clusterCidr, b.ip);
  // (The node's own processes count as outside the cluster, as kube-proxy masquerades them too.)
  const snat = b.ip === src || fe.snatExternal || outsideBackend || ctx.id.localAddresses.has(src);
  let nsrc = src;
  let nsport = sport;
  if (snat) {
    nsrc = outsideBackend ? ctx.id.nodeIp : lb.snatIp;
    nsport = lb.allocPort(proto, b.ip, b.port, nsrc, outsideBackend ? 0 : sport);
    if (nsport < 0) {
      ctx.drop(DROP['nat-ports-exhausted'], fe.service);
      return NAT_CONSUMED;
    }
  } else if (lb.conntrack.lookup(proto, b.ip, b.port, src, sport) >= 0) {
    // The backend's side of this flow is taken by an older one (the client
    // reused its source port for another frontend of the same backend, and
    // that flow lingers in TIME_WAIT): as Linux's NAT does, this flow gets
    // another source port towards the backend, put back on the replies.
    nsport = lb.allocPort(proto, b.ip, b.port, src, 0);
    if (nsport < 0) {
      ctx.drop(DROP['nat-ports-exhausted'], fe.service);
      return NAT_CONSUMED;
    }
  }
  const flags = CT_DNAT | (snat ? CT_SNAT : 0) | (fromUnderlay ? CT_FROM_UNDERLAY : 0);
  const ent = lb.conntrack.create(proto, src, sport, ip.dst, dport, b.ip, b.port, nsrc, nsport, lb.idOf(b), flags);
  if (ent < 0) {
    ctx.drop(DROP['conntrack-full'], fe.service);
    return NAT_CONSUMED;
  }
  ctx.ctCreated = ent;
  lb.stats.newServiceFlows++;
  b.connections++;
  b.active++;
  b.packets++;
  b.bytes += ip.totalLength;
  lb.conntrack.seen(ent, 0, tcpFlags, ip.totalLength);
  if (ctx.curProbe) {
    ctx.stage(
      'service',
      `backend ${b.name === `${ipv4ToString(b.ip)}:${b.port}` ? b.name : `${b.name} ${ipv4ToString(b.ip)}:${b.port}`}${b.nodeName ? ` on ${b.nodeName}` : ''} — ${why}`,
      { backend: b.name, backendIp: ipv4ToString(b.ip), backendPort: b.port },
    );
    ctx.stage(
      'conntrack',
      `new entry ${describeEntry(ctx, ent)}${tcpFlags & TCP_SYN ? '' : ' (picked up mid-stream)'}`,
      { new: true },
    );
  }
  const tr = ctx.tracer;
  if (tr !== null && tr.natCreated) {
    tr.natCreated({
      kind: 'dnat',
      service: fe.service,
      frontend: frontendText(ctx, fe),
      frontendType: fe.type,
      proto,
      src,
      sport,
      dst: ip.dst,
      dport,
      newSrc: nsrc,
      newSport: nsport,
      newDst: b.ip,
      newDport: b.port,
      backend: b.name,
      fromUnderlay,
    });
  }
  rewrite(ctx, buf, slot, nsrc, nsport, b.ip, b.port);
  return NAT_DONE;
}

function frontendText(ctx: PipelineContext, fe: Frontend): string {
  return formatFrontend(ipv4ToString(fe.ip === 0 ? ctx.id.nodeIp : fe.ip), fe.port, fe.proto);
}

/**
 * A pod's packet leaves the cluster (its destination is no pod, node pod
 * CIDR or Service): its source becomes the node's underlay address and a
 * port of the NAT range, as flannel's and Calico's outgoing NAT do. The
 * caller sends it on the underlay. Returns NAT_DONE, or NAT_CONSUMED (dropped).
 */
export function masquerade(ctx: PipelineContext, buf: Buffer, slot: number): number {
  const lb = ctx.lb!;
  const ip = ctx.ip;
  if (!readPorts(ctx, buf)) return NAT_PASS; // ICMP and fragments are not masqueraded (yet): the caller's no-route
  const proto = ip.protocol;
  const src = ip.src;
  const dst = ip.dst;
  const natIp = ctx.id.nodeIp;
  const port = lb.allocPort(proto, dst, dport, natIp, 0);
  if (port < 0) {
    ctx.drop(DROP['nat-ports-exhausted'], 'masquerade');
    return NAT_CONSUMED;
  }
  const ent = lb.conntrack.create(proto, src, sport, dst, dport, dst, dport, natIp, port, -1, CT_MASQ);
  if (ent < 0) {
    ctx.drop(DROP['conntrack-full'], 'masquerade');
    return NAT_CONSUMED;
  }
  lb.stats.newMasqueradeFlows++;
  lb.conntrack.seen(ent, 0, tcpFlags, ip.totalLength);
  if (ctx.curProbe)
    ctx.stage(
      'masquerade',
      `${ipv4ToString(dst)} is outside the cluster: source ${ipv4ToString(src)}:${sport} becomes the node's ${ipv4ToString(natIp)}:${port}`,
      { natIp: ipv4ToString(natIp), natPort: port },
    );
  const tr = ctx.tracer;
  if (tr !== null && tr.natCreated) {
    tr.natCreated({
      kind: 'masquerade',
      proto,
      src,
      sport,
      dst,
      dport,
      newSrc: natIp,
      newSport: port,
      newDst: dst,
      newDport: dport,
    });
  }
  rewrite(ctx, buf, slot, natIp, port, dst, dport);
  return NAT_DONE;
}

/** Is this destination one a pod's packet may be masqueraded to? (not the cluster's own ranges) */
export function isOutside(ctx: PipelineContext, dst: number): boolean {
  const lb = ctx.lb!;
  return !cidrContains(lb.clusterCidr, dst) && !lb.isServiceAddress(dst);
}

/**
 * "Connection refused", as kube-proxy's REJECT rules answer: a TCP reset,
 * or ICMP port unreachable for UDP, from the address the client asked.
 */
function reject(ctx: PipelineContext, buf: Buffer, slot: number): void {
  const tcp = ctx.ip.protocol === IPPROTO_TCP;
  if (answerSender(ctx, buf, slot, tcp, ICMP_DEST_UNREACHABLE, ICMP_CODE_PORT_UNREACHABLE, 0, ctx.ip.dst))
    ctx.lb!.stats.rejected++;
}
