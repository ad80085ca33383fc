import { parseIpv4 } from '../packet/index.js';

/**
 * Deterministic MACs, so any node can compute another's without asking:
 * - a node's VTEP MAC is 0e:77 + its underlay IPv4 (locally administered);
 * - a pod's (and a gateway's) MAC is 0a:58 + its IPv4, the scheme
 *   OVN-Kubernetes uses, so a learner can read the IP out of the MAC.
 */
function macFrom(prefix0: number, prefix1: number, ip: number): Buffer {
  const b = Buffer.alloc(6);
  b[0] = prefix0;
  b[1] = prefix1;
  b.writeUInt32BE(ip >>> 0, 2);
  return b;
}
export const vtepMacFor = (nodeIp: number | string): Buffer =>
  macFrom(0x0e, 0x77, typeof nodeIp === 'string' ? parseIpv4(nodeIp) : nodeIp);
export const podMacFor = (ip: number | string): Buffer =>
  macFrom(0x0a, 0x58, typeof ip === 'string' ? parseIpv4(ip) : ip);
