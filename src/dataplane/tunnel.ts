import { ETHERNET_HEADER_SIZE, ETHERTYPE_IPV4, VNET_HDR_SIZE, flowHash, vxlanSourcePort } from '../packet/index.js';
import { OuterTemplate, OUTER_HEADERS_SIZE } from '../overlay/index.js';
import type { PipelineContext } from './context.js';
import type { Peer } from './tables.js';

/**
 * The VXLAN tunnel to each peer node: its outer headers (Ethernet, IPv4,
 * UDP, VXLAN) are a template built once the peer's underlay MAC is known,
 * and rebuilt when that MAC changes. Packets the agent makes itself (ICMP
 * errors, echo replies, health probes) go out through sendOverlayIp.
 */

const ETH = ETHERNET_HEADER_SIZE;

/** The outer headers towards `peer`, or undefined while its underlay MAC is unknown. */
export function templateFor(ctx: PipelineContext, peer: Peer): OuterTemplate | undefined {
  let t = ctx.templates.get(peer.nodeIp);
  if (t) return t;
  const mac = ctx.underlayNeighbors.get(peer.nodeIp);
  if (!mac) return undefined;
  const id = ctx.id;
  t = new OuterTemplate(mac, id.nodeMac, id.nodeIp, peer.nodeIp, id.vni, id.vxlanPort);
  ctx.templates.set(peer.nodeIp, t);
  return t;
}

/** A peer's underlay MAC was seen (at mac[macOff]): remember it, and drop its template if the MAC changed. */
export function learnUnderlay(ctx: PipelineContext, ip: number, mac: Buffer, macOff: number): void {
  const before = ctx.underlayNeighbors.get(ip);
  ctx.underlayNeighbors.learn(ip, mac, macOff, ctx.clock());
  if (!before || before.compare(mac, macOff, macOff + 6) !== 0) ctx.templates.delete(ip);
}

/** Send an IPv4 packet we build (from our gateway) to a peer's pod over VXLAN. */
export function sendOverlayIp(ctx: PipelineContext, peer: Peer, build: (out: Buffer, off: number) => number): void {
  const tpl = templateFor(ctx, peer);
  if (!tpl || !ctx.room(ctx.underlayTx, ctx.ports.underlay, 1600)) return;
  const tx = ctx.underlayTx;
  const off = tx.alloc(VNET_HDR_SIZE + OUTER_HEADERS_SIZE + ETH + 1500);
  const sc = tx.scratch;
  sc.fill(0, off, off + VNET_HDR_SIZE);
  const e = off + VNET_HDR_SIZE + OUTER_HEADERS_SIZE;
  peer.vtepMac.copy(sc, e);
  ctx.id.vtepMac.copy(sc, e + 6);
  sc.writeUInt16BE(ETHERTYPE_IPV4, e + 12);
  const n = build(sc, e + ETH);
  if (n <= 0) return;
  const sport = vxlanSourcePort(flowHash(sc, e + ETH));
  tpl.write(sc, off + VNET_HDR_SIZE, ETH + n, ctx.nextIpId(), sport);
  tx.pushScratch(off, VNET_HDR_SIZE + OUTER_HEADERS_SIZE + ETH + n);
}
