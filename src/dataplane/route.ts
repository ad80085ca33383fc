import { VNET_HDR_SIZE, ICMP_DEST_UNREACHABLE, ICMP_CODE_NET_UNREACHABLE, ipv4ToString } from '../packet/index.js';
import { formatCidr } from './cidr.js';
import type { PipelineContext } from './context.js';
import { DROP } from './drop-reasons.js';
import { encapToPeer } from './encap.js';
import { icmpErrorToPod } from './icmp-replies.js';
import { cidrContains } from './tables.js';
import { deliverLocal } from './to-pods.js';

/**
 * Where a pod's IPv4 frame goes, by its destination: this node's pod CIDR
 * (to-pods.ts), a peer node's (encap.ts), or nowhere (net unreachable).
 *
 * Drops: no-route. Trace stage: route.
 */

/** Route the pod frame at slot (ctx.ip on its header). */
export function routeFromPod(ctx: PipelineContext, buf: Buffer, slot: number, len: number): void {
  const dst = ctx.ip.dst;
  if (cidrContains(ctx.id.podCidr, dst)) {
    if (ctx.curProbe) ctx.stage('route', `${ipv4ToString(dst)} is in this node's pod CIDR ${formatCidr(ctx.id.podCidr)}: deliver locally`);
    return deliverLocal(ctx, buf, slot, len, false);
  }
  const peer = ctx.peers.lookup(dst);
  if (ctx.curProbe) {
    ctx.stage(
      'route',
      peer
        ? `${ipv4ToString(dst)} is in ${formatCidr(peer.podCidr)} of peer node ${peer.name} (${ipv4ToString(peer.nodeIp)}): VXLAN`
        : `no pod CIDR of any node covers ${ipv4ToString(dst)}`,
      peer ? { peer: peer.name, peerIp: ipv4ToString(peer.nodeIp) } : {},
    );
  }
  if (!peer) {
    icmpErrorToPod(ctx, buf, slot + VNET_HDR_SIZE, len - VNET_HDR_SIZE, ICMP_DEST_UNREACHABLE, ICMP_CODE_NET_UNREACHABLE, 0);
    ctx.drop(DROP['no-route']);
    return;
  }
  encapToPeer(ctx, buf, slot, len, peer);
}
