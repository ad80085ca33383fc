/**
 * Which node gets a new flow: rendezvous (highest-random-weight) hashing of
 * the flow's 5-tuple hash over the candidate nodes. Pure and deterministic:
 * the same flow goes to the same node while the candidate set is unchanged,
 * on every load balancer instance; when a node leaves, only its own flows
 * move (each to the node that scored second for it), and when one joins it
 * takes about 1/N of the flows from the others and nothing else moves.
 * (Maglev, which GCP's load balancers use, gives the same guarantee through a
 * lookup table; with a handful of nodes, scoring each is as cheap.)
 */
import { murmurFinalize } from '../packet/index.js';

/** A node's weight for a flow: a hash of both (uint32). */
export function rendezvousScore(flowHash: number, nodeIp: number): number {
  return murmurFinalize((flowHash ^ murmurFinalize(nodeIp ^ 0x5bd1e995)) >>> 0);
}

/**
 * Index into `nodes` (IPv4 addresses as uint32) of the node for this flow,
 * or -1 when there are none. Ties (vanishingly rare) go to the lower address,
 * so the order of `nodes` never matters.
 */
export function pickNode(flowHash: number, nodes: readonly number[]): number {
  let best = -1;
  let bestScore = -1;
  for (let i = 0; i < nodes.length; i++) {
    const s = rendezvousScore(flowHash, nodes[i]);
    if (s > bestScore || (s === bestScore && nodes[i] < nodes[best])) {
      best = i;
      bestScore = s;
    }
  }
  return best;
}
