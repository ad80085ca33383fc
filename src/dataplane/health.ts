import {
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_HEADER_SIZE,
  IcmpView,
  IPPROTO_ICMP,
  IPV4_MIN_HEADER_SIZE,
  writeIpv4Header,
} from '../packet/index.js';
import type { PipelineContext } from './context.js';
import type { Peer } from './tables.js';
import { sendOverlayIp } from './tunnel.js';

/**
 * Health probes between agents: once a second each agent pings every peer's
 * gateway over VXLAN; the peer's agent answers as for any ping of its
 * gateway (icmp-replies.ts), and the reply marks the peer alive. A peer
 * that answered once and then went silent is down, and traffic to it is
 * dropped as peer-unreachable (encap.ts).
 *
 * Silent means neither a reply nor any other VXLAN frame from it since
 * `downAfterMs` (several beats: one lost probe is not a dead node). Its
 * traffic counts as a reply because only a live agent sends VXLAN: a peer
 * whose agent has just restarted forwards a live flow before it has
 * answered the next probe, and judging by probes alone would declare it
 * down just after it came back and answer that flow host-unreachable.
 */

/** ICMP identifier of agent-to-agent health probes ("pw"). */
export const HEALTH_ICMP_ID = 0x7077;

const HEALTH_PAYLOAD = Buffer.alloc(16);
HEALTH_PAYLOAD.write('podwire-health');
const HEALTH_PROBE_SIZE = IPV4_MIN_HEADER_SIZE + ICMP_HEADER_SIZE + HEALTH_PAYLOAD.length;
const icmpView = new IcmpView();

/** An ICMP echo request from one gateway to another: the health probe. Returns its IPv4 length. */
function writeHealthProbe(out: Buffer, off: number, src: number, dst: number, seq: number): number {
  const icmpLen = HEALTH_PROBE_SIZE - IPV4_MIN_HEADER_SIZE;
  writeIpv4Header(out, off, src, dst, IPPROTO_ICMP, icmpLen, 64, seq);
  const icmp = icmpView.wrap(out, off + IPV4_MIN_HEADER_SIZE, icmpLen);
  icmp.type = ICMP_ECHO_REQUEST;
  icmp.code = 0;
  icmp.id = HEALTH_ICMP_ID;
  icmp.seq = seq;
  HEALTH_PAYLOAD.copy(out, icmp.payloadOffset);
  icmp.updateChecksum();
  return HEALTH_PROBE_SIZE;
}

/** Re-judge who is down, and queue probe `seq` to every peer's gateway (caller flushes). */
export function sendHealthProbes(ctx: PipelineContext, seq: number, downAfterMs: number): void {
  const now = ctx.clock();
  for (const peer of ctx.peers.list()) {
    const h = peer.health;
    if (!h) continue;
    const rx = peer.traffic?.rxPackets ?? 0;
    if (h.answeredOnce && rx !== h.rxAtLastTick) h.lastReplyMs = now; // heard from since the last tick
    h.rxAtLastTick = rx;
    h.down = h.answeredOnce && now - h.lastReplyMs > downAfterMs;
    const gw = (peer.podCidr.network + 1) >>> 0;
    const from = ctx.id.gatewayIp;
    sendOverlayIp(ctx, peer, (out, o) => writeHealthProbe(out, o, from, gw, seq));
    h.probesSent++;
  }
}

/** Is the ICMP message at buf[icmp] (the packet ends at `end`) an echo reply to our health probe? */
export function isHealthReply(buf: Buffer, icmp: number, end: number): boolean {
  const v = icmpView.wrap(buf, icmp, end - icmp);
  return v.isValid() && v.type === ICMP_ECHO_REPLY && v.id === HEALTH_ICMP_ID;
}

/** The peer's agent answered a health probe: it is alive. */
export function healthReplied(ctx: PipelineContext, peer: Peer): void {
  const h = peer.health;
  if (h) {
    h.answeredOnce = true;
    h.lastReplyMs = ctx.clock();
    h.repliesSeen++;
    h.down = false;
  }
}
