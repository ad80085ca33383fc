import {
  ETHERNET_HEADER_SIZE,
  VNET_HDR_SIZE,
  VNET_HDR_F_NEEDS_CSUM,
  VNET_HDR_GSO_NONE,
  VNET_HDR_GSO_TCPV4,
  ICMP_DEST_UNREACHABLE,
  ICMP_CODE_HOST_UNREACHABLE,
  flowHash,
  vxlanSourcePort,
  ipv4ToString,
  macToString,
} from '../packet/index.js';
import { OUTER_HEADERS_SIZE, writeEncapVnetHdr } from '../overlay/index.js';
import type { PipelineContext } from './context.js';
import { DROP } from './drop-reasons.js';
import { icmpErrorToPod, mtuExceeded } from './icmp-replies.js';
import type { Peer } from './tables.js';
import { FWD_VXLAN } from './trace.js';
import { HOLD_ENCAP } from './trace-hold.js';
import { segmentTcp } from './tso.js';
import { templateFor } from './tunnel.js';

/**
 * A pod's frame to a pod on a peer node: checks the peer is reachable and
 * the frame fits, rewrites the inner Ethernet VTEP to VTEP, and sends it
 * behind the peer's outer headers — payload straight from the receive
 * buffer, only the headers written. A TCP GSO super-frame is split (tso.ts).
 *
 * Drops: peer-unresolved, peer-unreachable, malformed-l4, mtu-exceeded,
 * gso-unsupported. Trace stage: encap.
 */

const ETH = ETHERNET_HEADER_SIZE;

/** Step mode: a probe released from its hold before encapsulation goes to the peer that owns its destination now. */
export function resumeEncap(ctx: PipelineContext, frame: Buffer, port: number): void {
  ctx.podTx.payload = frame;
  ctx.underlayTx.payload = frame;
  ctx.curBuf = frame;
  ctx.curOff = VNET_HDR_SIZE;
  ctx.curLen = frame.length - VNET_HDR_SIZE;
  ctx.curPort = port;
  ctx.curProbe = true;
  const ip = ctx.ip.wrap(frame, VNET_HDR_SIZE + ETH, frame.length - VNET_HDR_SIZE - ETH);
  const peer = ctx.peers.lookup(ip.dst);
  if (peer) encapToPeer(ctx, frame, 0, frame.length, peer);
  else ctx.drop(DROP['no-route']);
  ctx.flush();
}

/** Encapsulate the pod frame at slot (ctx.ip on its header) to `peer`. */
export function encapToPeer(ctx: PipelineContext, buf: Buffer, slot: number, len: number, peer: Peer): void {
  if (ctx.curProbe && ctx.holds !== null && ctx.parkProbe(HOLD_ENCAP, buf, slot, len)) return;
  const c = ctx.counters;
  const f = slot + VNET_HDR_SIZE;
  const flen = len - VNET_HDR_SIZE;
  const ip = ctx.ip;
  const vnet = ctx.vnet.wrap(buf, slot);
  const tpl = templateFor(ctx, peer);
  if (!tpl) {
    ctx.events.onPeerUnresolved?.(peer.nodeIp);
    ctx.drop(DROP['peer-unresolved']);
    return;
  }
  if (peer.health?.down) {
    icmpErrorToPod(ctx, buf, f, flen, ICMP_DEST_UNREACHABLE, ICMP_CODE_HOST_UNREACHABLE, 0);
    ctx.drop(DROP['peer-unreachable']);
    return;
  }
  const gso = vnet.gsoType & 0x7f;
  if (vnet.flags & VNET_HDR_F_NEEDS_CSUM && vnet.csumStart + vnet.csumOffset + 2 > flen) {
    ctx.drop(DROP['malformed-l4']); // the checksum it asks to complete is not inside the frame
    return;
  }
  if (gso === VNET_HDR_GSO_NONE && ip.totalLength > ctx.id.podMtu) {
    mtuExceeded(ctx, buf, f, flen);
    return;
  }
  if (gso !== VNET_HDR_GSO_NONE && gso !== VNET_HDR_GSO_TCPV4) {
    ctx.drop(DROP['gso-unsupported']);
    return;
  }
  ip.decrementTtl();
  // Inner Ethernet: from our VTEP to the peer's, as a kernel VTEP would.
  const eth = ctx.eth.wrap(buf, f, flen);
  eth.setDst(peer.vtepMac);
  eth.setSrc(ctx.id.vtepMac);
  const sport = vxlanSourcePort(flowHash(buf, f + ETH));
  if (ctx.curProbe) {
    const id = ctx.id;
    ctx.stage(
      'encap',
      `VXLAN: outer ${ipv4ToString(id.nodeIp)} -> ${ipv4ToString(peer.nodeIp)} UDP ${sport} -> ${id.vxlanPort}, VNI ${id.vni}; inner ${macToString(id.vtepMac)} -> ${macToString(peer.vtepMac)}`,
      { outerSrc: ipv4ToString(id.nodeIp), outerDst: ipv4ToString(peer.nodeIp), srcPort: sport, vni: id.vni },
    );
  }
  if (ctx.tracer?.forwarded) {
    ctx.tracer.forwarded(
      FWD_VXLAN,
      ctx.curPort,
      buf,
      f,
      flen,
      peer.nodeIp,
      gso === VNET_HDR_GSO_NONE ? 1 : Math.ceil((ip.totalLength - ip.headerLength - 20) / (vnet.gsoSize || 1)),
    );
  }
  if (gso === VNET_HDR_GSO_NONE) {
    if (!ctx.room(ctx.underlayTx, ctx.ports.underlay, VNET_HDR_SIZE + OUTER_HEADERS_SIZE)) return;
    const tx = ctx.underlayTx;
    const off = tx.alloc(VNET_HDR_SIZE + OUTER_HEADERS_SIZE);
    writeEncapVnetHdr(tx.scratch, off, vnet.flags, vnet.csumStart, vnet.csumOffset);
    tpl.write(tx.scratch, off + VNET_HDR_SIZE, flen, ctx.nextIpId(), sport);
    tx.pushScratchPayload(off, VNET_HDR_SIZE + OUTER_HEADERS_SIZE, f, flen);
    c.vxlanTx++;
    c.vxlanTxBytes += flen + OUTER_HEADERS_SIZE;
    if (peer.traffic) {
      peer.traffic.txPackets++;
      peer.traffic.txBytes += flen + OUTER_HEADERS_SIZE;
    }
    return;
  }
  const before = c.vxlanTx;
  const beforeBytes = c.vxlanTxBytes;
  segmentTcp(ctx, buf, f, flen, vnet.gsoSize, tpl, sport);
  if (peer.traffic) {
    peer.traffic.txPackets += c.vxlanTx - before;
    peer.traffic.txBytes += c.vxlanTxBytes - beforeBytes;
  }
}
