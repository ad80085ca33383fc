/**
 * An agent restart without a blackout: the successor takes the node over
 * from the running agent instead of starting after it has gone.
 *
 * 1. The successor starts beside its predecessor: it opens cbr0 and eth0 in
 *    the same PACKET_FANOUT rollover groups (datapath.ts), so every frame
 *    still goes to the predecessor; it lists and watches the API server
 *    (peers, Services, EndpointSlices, policies), restores conntrack from the
 *    predecessor's periodic file, and copies its neighbour tables (GET
 *    /status) — ARP answers go to the predecessor, so it cannot learn them.
 * 2. Ready, it asks the predecessor to let go (POST /handover). The
 *    predecessor forwards what is queued on its sockets, closes them — from
 *    that instant the kernel gives the successor every frame — and answers
 *    with its live connections, then closes its ports (:10250, metrics,
 *    health) and exits.
 * 3. The successor updates its conntrack with that last word, binds the
 *    ports, starts the kubelet (which adopts the running containers) and its
 *    control socket.
 *
 * What can be lost: frames that reach the predecessor's socket between its
 * last read and its close (microseconds). Flows started in the instant
 * between the switch and the conntrack update are tracked anew by the
 * successor (their Service backend is the same: Maglev and the schedulers
 * pick from the same EndpointSlices).
 */
import { callAgent } from './control-server.js';
import type { ConntrackSnapshot } from '../lb/index.js';

/** What POST /handover answers: the predecessor's last word. */
export interface HandoverState {
  pid: number;
  conntrack: ConntrackSnapshot | null;
  underlayNeighbors: { ip: string; mac: string }[];
  neighbors: { ip: string; mac: string }[];
  /** ms from the request to the sockets' close, on the predecessor's clock */
  releasedAfterMs: number;
}

/** The neighbour tables of GET /status, as the successor copies them before the switch. */
export interface NeighborTables {
  underlayNeighbors: { ip: string; mac: string }[];
  neighbors: { ip: string; mac: string }[];
}

export type HandoverOutcome =
  { kind: 'none'; why: string } | { kind: 'refused'; why: string } | { kind: 'done'; state: HandoverState; ms: number };

/** The predecessor's neighbour tables, or null when no agent answers on the socket. */
export async function predecessorNeighbors(socketPath: string): Promise<NeighborTables | null> {
  const r = await callAgent(socketPath, 'GET', '/status', undefined, 3000).catch(() => null);
  if (r?.status !== 200) return null;
  const b = r.body as Partial<NeighborTables>;
  return { underlayNeighbors: b.underlayNeighbors ?? [], neighbors: b.neighbors ?? [] };
}

/** The predecessor's connections before the switch, or null (none answers, or it runs no Services). */
export async function predecessorConntrack(socketPath: string): Promise<ConntrackSnapshot | null> {
  const r = await callAgent(socketPath, 'GET', '/handover/conntrack', undefined, 5000).catch(() => null);
  return r?.status === 200 ? (r.body as ConntrackSnapshot | null) : null;
}

/** Ask the running agent to let go of the node. */
export async function requestHandover(socketPath: string, successorPid: number): Promise<HandoverOutcome> {
  const t0 = performance.now();
  let r: { status: number; body: unknown };
  try {
    r = await callAgent(socketPath, 'POST', '/handover', { pid: successorPid }, 15_000);
  } catch (err) {
    return { kind: 'none', why: `no agent answers on ${socketPath} (${(err as Error).message})` };
  }
  if (r.status === 404) return { kind: 'refused', why: 'the running agent cannot hand over (an older version)' };
  if (r.status !== 200)
    return { kind: 'refused', why: `the running agent answered ${r.status}: ${JSON.stringify(r.body)}` };
  return { kind: 'done', state: r.body as HandoverState, ms: performance.now() - t0 };
}
