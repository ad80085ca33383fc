import { finishChecksum, sum16 } from '../packet/index.js';
import type { PipelineContext } from './context.js';
import type { Peer } from './tables.js';
import { sendOverlayIp } from './tunnel.js';

/**
 * Health probes between agents: once a second each agent pings every peer's
 * gateway over VXLAN; the peer's agent answers as for any ping of its
 * gateway (icmp-replies.ts), and the reply marks the peer alive. A peer
 * that answered once and then went silent is down, and traffic to it is
 * dropped as peer-unreachable (encap.ts).
 */

/** ICMP identifier of agent-to-agent health probes ("pw"). */
export const HEALTH_ICMP_ID = 0x7077;

/** An ICMP echo request from one gateway to another: the health probe. Returns its IPv4 length. */
function writeHealthProbe(out: Buffer, off: number, src: number, dst: number, seq: number): number {
  const len = 20 + 8 + 16;
  out.fill(0, off, off + len);
  out[off] = 0x45;
  out.writeUInt16BE(len, off + 2);
  out.writeUInt16BE(seq, off + 4);
  out[off + 8] = 64;
  out[off + 9] = 1;
  out.writeUInt32BE(src >>> 0, off + 12);
  out.writeUInt32BE(dst >>> 0, off + 16);
  out.writeUInt16BE(finishChecksum(sum16(out, off, 20)), off + 10);
  const icmp = off + 20;
  out[icmp] = 8;
  out.writeUInt16BE(HEALTH_ICMP_ID, icmp + 4);
  out.writeUInt16BE(seq, icmp + 6);
  out.write('podwire-health', icmp + 8);
  out.writeUInt16BE(finishChecksum(sum16(out, icmp, 24)), icmp + 2);
  return len;
}

/** Re-judge who is down, and queue probe `seq` to every peer's gateway (caller flushes). */
export function sendHealthProbes(ctx: PipelineContext, seq: number, downAfterMs: number): void {
  const now = ctx.clock();
  for (const peer of ctx.peers.list()) {
    const h = peer.health;
    if (!h) continue;
    h.down = h.answeredOnce && now - h.lastReplyMs > downAfterMs;
    const gw = (peer.podCidr.network + 1) >>> 0;
    const from = ctx.id.gatewayIp;
    sendOverlayIp(ctx, peer, (out, o) => writeHealthProbe(out, o, from, gw, seq));
    h.probesSent++;
  }
}

/** Is the ICMP message at buf[icmp] (the packet ends at `end`) an echo reply to our health probe? */
export function isHealthReply(buf: Buffer, icmp: number, end: number): boolean {
  return buf[icmp] === 0 && icmp + 8 <= end && buf.readUInt16BE(icmp + 4) === HEALTH_ICMP_ID;
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
