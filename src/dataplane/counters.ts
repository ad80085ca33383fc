import { DROP_REASON_COUNT, DROP_REASONS } from './drop-reasons.js';

/** Packet and byte counters of one agent's pipeline. Plain numbers, no allocation. */
export class Counters {
  readonly drops = new Float64Array(DROP_REASON_COUNT);
  podRx = 0;
  podRxBytes = 0;
  underlayRx = 0;
  underlayRxBytes = 0;
  /** delivered to a pod on this node */
  localTx = 0;
  localTxBytes = 0;
  /** VXLAN frames sent (after segmentation) */
  vxlanTx = 0;
  vxlanTxBytes = 0;
  vxlanRx = 0;
  /** GSO super-frames split into VXLAN segments */
  segmented = 0;
  toHost = 0;
  arpReplies = 0;
  icmpErrors = 0;
  icmpRateLimited = 0;
  /** plain IPv4 out of eth0 (masqueraded egress, replies to external clients) */
  underlayEgress = 0;
  underlayEgressBytes = 0;

  snapshot(): Record<string, unknown> {
    const drops: Record<string, number> = {};
    DROP_REASONS.forEach(([name], i) => {
      if (this.drops[i] > 0) drops[name] = this.drops[i];
    });
    const { drops: _d, ...rest } = this as unknown as Record<string, unknown>;
    return { ...rest, drops };
  }
}
