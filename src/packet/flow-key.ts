import { read16, read32 } from './bytes.js';
import { IPPROTO_TCP, IPPROTO_UDP } from './ipv4.js';
import { ipv4ToString } from './ipv4-address.js';

/**
 * A transport flow's 5-tuple, as conntrack and flow logs name it. The
 * dataplane's hot path reads the five numbers straight from the headers;
 * this object is for the code around it (tests, trace, CLI, tables).
 */
export class FlowKey {
  constructor(
    readonly proto: number,
    readonly src: number,
    readonly sport: number,
    readonly dst: number,
    readonly dport: number,
  ) {}

  /** The key of the packets coming back: addresses and ports swapped. */
  reply(): FlowKey {
    return new FlowKey(this.proto, this.dst, this.dport, this.src, this.sport);
  }

  equals(o: FlowKey): boolean {
    return (
      this.proto === o.proto &&
      this.src === o.src &&
      this.sport === o.sport &&
      this.dst === o.dst &&
      this.dport === o.dport
    );
  }

  /** `10.244.1.2:41000 -> 10.96.0.10:53/UDP` */
  toString(): string {
    const p = this.proto === IPPROTO_TCP ? 'TCP' : this.proto === IPPROTO_UDP ? 'UDP' : `IP/${this.proto}`;
    return `${ipv4ToString(this.src)}:${this.sport} -> ${ipv4ToString(this.dst)}:${this.dport}/${p}`;
  }

  /**
   * The key of the TCP/UDP packet whose (validated) IPv4 header is at
   * ipOff, or null for other protocols, later fragments and a cut-off L4
   * header (`end` bounds the bytes that exist).
   */
  static ofIpv4(buf: Uint8Array, ipOff: number, end: number): FlowKey | null {
    const proto = buf[ipOff + 9];
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return null;
    if ((read16(buf, ipOff + 6) & 0x1fff) !== 0) return null;
    const l4 = ipOff + ((buf[ipOff] & 0x0f) << 2);
    if (l4 + 4 > end) return null;
    return new FlowKey(proto, read32(buf, ipOff + 12), read16(buf, l4), read32(buf, ipOff + 16), read16(buf, l4 + 2));
  }
}
