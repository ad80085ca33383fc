/**
 * Conntrack entry states, their timeouts, and the TCP state machine: a
 * simplified version of Linux's `tcp_conntracks` table
 * (net/netfilter/nf_conntrack_proto_tcp.c). Pure functions over small
 * integers so the per-packet path (Conntrack.seen) allocates nothing.
 *
 * What is simplified, and why it is enough for NAT bookkeeping: Linux also
 * checks sequence windows (td_end/td_maxwin) and marks out-of-window packets
 * INVALID; we track no sequence numbers, so "the peer ACKed the FIN" is
 * approximated by "the peer sent an ACK after the FIN". Simultaneous open
 * (SYN_SENT2) is not modelled: a reply SYN is ignored. Packets that Linux
 * would call invalid leave the state unchanged instead.
 */

// Entry states (one byte per entry). 0 is "free slot", so a zero-filled
// record is free. TCP states follow Linux's names; UDP and other protocols
// only distinguish "reply seen" (Linux's IPS_SEEN_REPLY / [UNREPLIED]).
export const CT_FREE = 0;
export const TCP_NONE = 1; // created, first packet not seen yet
export const TCP_SYN_SENT = 2;
export const TCP_SYN_RECV = 3;
export const TCP_ESTABLISHED = 4;
export const TCP_FIN_WAIT = 5;
export const TCP_CLOSE_WAIT = 6;
export const TCP_LAST_ACK = 7;
export const TCP_TIME_WAIT = 8;
export const TCP_CLOSE = 9;
export const CT_UNREPLIED = 10; // UDP / generic: only the original direction seen
export const CT_REPLIED = 11; // UDP / generic: seen in both directions

export const CT_STATE_NAMES: readonly string[] = [
  'FREE',
  'NONE',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
  'UNREPLIED',
  'REPLIED',
];

export function ctStateName(state: number): string {
  return CT_STATE_NAMES[state] ?? `STATE_${state}`;
}

// Per-entry `track` bits (Linux keeps the equivalent in ct->status and
// td_flags): which directions have been seen, which sent a FIN, and which
// sent the first FIN (the "closer", IP_CT_TCP_FLAG_CLOSE_INIT).
export const SEEN_ORIG = 0x01;
export const SEEN_REPLY = 0x02;
export const FIN_ORIG = 0x04;
export const FIN_REPLY = 0x08;
/** set: the reply direction sent the first FIN; clear: the original did */
export const CLOSER_REPLY = 0x10;

// TCP header flag bits (RFC 9293), as the caller passes them to seen().
const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

/**
 * next(state, packet) — `d` is the packet's direction (o = original, r =
 * reply); in the closing states "closer" is the side that sent the first
 * FIN and "peer" the other. Events are classified by priority RST > SYN+ACK
 * > SYN > FIN > ACK, as Linux's get_conntrack_index does. Every cell not
 * listed keeps the state.
 *
 * | state       | SYN (o)      | SYN+ACK (r) | FIN             | ACK                | RST   |
 * |-------------|--------------|-------------|-----------------|--------------------|-------|
 * | NONE        | SYN_SENT     | ESTABLISHED | FIN_WAIT        | ESTABLISHED (1)    | CLOSE |
 * | SYN_SENT    | SYN_SENT     | SYN_RECV    |                 |                    | CLOSE |
 * | SYN_RECV    |              | SYN_RECV    | FIN_WAIT        | ESTABLISHED (o)    | CLOSE |
 * | ESTABLISHED |              |             | FIN_WAIT        |                    | CLOSE |
 * | FIN_WAIT    |              |             | LAST_ACK (peer) | CLOSE_WAIT (peer)  | CLOSE |
 * | CLOSE_WAIT  |              |             | LAST_ACK (peer) |                    | CLOSE |
 * | LAST_ACK    |              |             |                 | TIME_WAIT (closer) | CLOSE |
 * | TIME_WAIT   | SYN_SENT (2) |             |                 |                    | CLOSE |
 * | CLOSE       | SYN_SENT (2) |             |                 |                    | CLOSE |
 *
 * (1) The first packet of a flow is not a SYN: a connection picked up
 *     mid-stream (after an agent restart without a snapshot, or asymmetric
 *     routing) is taken as ESTABLISHED, as Linux does with
 *     nf_conntrack_tcp_loose=1 (the default). Any non-SYN, non-RST, non-FIN
 *     first packet — a SYN+ACK from either side included — counts.
 * (2) A new SYN on a closed tuple reopens it (port reuse after TIME_WAIT);
 *     the FIN bits are cleared.
 */
export function tcpNext(state: number, dir: number, tcpFlags: number, track: number): number {
  // Returns (track << 8) | state packed in one small integer: no allocation.
  if (tcpFlags & RST) return pack(TCP_CLOSE, track);
  const peerOfCloser = (track & CLOSER_REPLY ? 0 : 1) === dir;
  if (tcpFlags & SYN) {
    if (tcpFlags & ACK) {
      if (state === TCP_NONE) return pack(TCP_ESTABLISHED, track);
      if (dir === 1 && (state === TCP_SYN_SENT || state === TCP_SYN_RECV)) return pack(TCP_SYN_RECV, track);
      return pack(state, track);
    }
    if (dir !== 0) return pack(state, track);
    if (state === TCP_NONE || state === TCP_SYN_SENT) return pack(TCP_SYN_SENT, track);
    if (state === TCP_TIME_WAIT || state === TCP_CLOSE) {
      return pack(TCP_SYN_SENT, track & ~(FIN_ORIG | FIN_REPLY | CLOSER_REPLY));
    }
    return pack(state, track);
  }
  if (tcpFlags & FIN) {
    const finBit = dir === 0 ? FIN_ORIG : FIN_REPLY;
    switch (state) {
      case TCP_NONE:
      case TCP_SYN_RECV:
      case TCP_ESTABLISHED:
        // this side closes first
        return pack(TCP_FIN_WAIT, (track & ~CLOSER_REPLY) | finBit | (dir === 1 ? CLOSER_REPLY : 0));
      case TCP_FIN_WAIT:
      case TCP_CLOSE_WAIT:
        return peerOfCloser ? pack(TCP_LAST_ACK, track | finBit) : pack(state, track);
      default:
        return pack(state, track);
    }
  }
  if (tcpFlags & ACK || state === TCP_NONE) {
    switch (state) {
      case TCP_NONE:
        return pack(TCP_ESTABLISHED, track);
      case TCP_SYN_RECV:
        return dir === 0 ? pack(TCP_ESTABLISHED, track) : pack(state, track);
      case TCP_FIN_WAIT:
        return peerOfCloser ? pack(TCP_CLOSE_WAIT, track) : pack(state, track);
      case TCP_LAST_ACK:
        return peerOfCloser ? pack(state, track) : pack(TCP_TIME_WAIT, track);
      default:
        return pack(state, track);
    }
  }
  return pack(state, track);
}

function pack(state: number, track: number): number {
  return ((track & 0xff) << 8) | state;
}

/** Timeouts per state, in ms. */
export interface ConntrackTimeouts {
  tcpSynSentMs: number;
  tcpSynRecvMs: number;
  tcpEstablishedMs: number;
  tcpFinWaitMs: number;
  tcpCloseWaitMs: number;
  tcpLastAckMs: number;
  tcpTimeWaitMs: number;
  tcpCloseMs: number;
  /** UDP, only the original direction seen (Linux nf_conntrack_udp_timeout) */
  udpMs: number;
  /** UDP once seen in both directions (Linux nf_conntrack_udp_timeout_stream) */
  udpStreamMs: number;
  /** any other protocol (Linux nf_conntrack_generic_timeout) */
  genericMs: number;
}

const S = 1000;

/**
 * Linux's nf_conntrack sysctl defaults (Documentation/networking/
 * nf_conntrack-sysctl.rst), except where kube-proxy overrides them on every
 * node it runs on (pkg/proxy/conntrack/sysctls; flags --conntrack-tcp-
 * timeout-established and --conntrack-tcp-timeout-close-wait): ESTABLISHED
 * 1 day instead of Linux's 5, CLOSE_WAIT 1 hour instead of 60 s. We replace
 * kube-proxy, so a node behaves as it would under kube-proxy.
 */
export const DEFAULT_TIMEOUTS: Readonly<ConntrackTimeouts> = Object.freeze({
  tcpSynSentMs: 120 * S,
  tcpSynRecvMs: 60 * S,
  tcpEstablishedMs: 86_400 * S, // kube-proxy; Linux: 432000 s
  tcpFinWaitMs: 120 * S,
  tcpCloseWaitMs: 3_600 * S, // kube-proxy; Linux: 60 s
  tcpLastAckMs: 30 * S,
  tcpTimeWaitMs: 120 * S,
  tcpCloseMs: 10 * S,
  udpMs: 30 * S,
  udpStreamMs: 120 * S,
  genericMs: 600 * S,
});

/**
 * Timeout per state for TCP/UDP, indexed by state, so Conntrack.seen reads
 * one array element. NONE (created, no packet yet) gets SYN_SENT's.
 */
export function timeoutTable(t: ConntrackTimeouts): Float64Array {
  const table = new Float64Array(CT_STATE_NAMES.length);
  table[TCP_NONE] = t.tcpSynSentMs;
  table[TCP_SYN_SENT] = t.tcpSynSentMs;
  table[TCP_SYN_RECV] = t.tcpSynRecvMs;
  table[TCP_ESTABLISHED] = t.tcpEstablishedMs;
  table[TCP_FIN_WAIT] = t.tcpFinWaitMs;
  table[TCP_CLOSE_WAIT] = t.tcpCloseWaitMs;
  table[TCP_LAST_ACK] = t.tcpLastAckMs;
  table[TCP_TIME_WAIT] = t.tcpTimeWaitMs;
  table[TCP_CLOSE] = t.tcpCloseMs;
  table[CT_UNREPLIED] = t.udpMs;
  table[CT_REPLIED] = t.udpStreamMs;
  return table;
}
