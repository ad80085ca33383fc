// Nothing on the hot path may throw: every view over arbitrary bytes (and
// arbitrary offsets) answers isValid() with a boolean, every accessor and
// builder returns, and every truncation of a valid packet is invalid.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ArpView,
  EthernetView,
  IcmpView,
  Ipv4View,
  TcpView,
  UdpView,
  VnetHdrView,
  VxlanView,
  buildEchoReply,
  buildIcmpError,
  completePartialChecksum,
  computeTcpChecksum,
  computeUdpChecksum,
  flowHash,
  icmpErrorAllowed,
  internetChecksum,
  writeArpReply,
  writeArpRequest,
  writeVnetHdr,
  writeVxlanHeader,
} from '../../../src/packet/index.js';
import { CAPTURED_VXLAN, MAC_A, bytes, capturedPing, hex, tcpFrame, udpFrame } from './fixtures.js';

type AnyView = { wrap(buf: Buffer, off: number, len: number): unknown; isValid(): boolean };
const VIEWS: Array<[string, () => AnyView]> = [
  ['EthernetView', () => new EthernetView()],
  ['Ipv4View', () => new Ipv4View()],
  ['UdpView', () => new UdpView()],
  ['TcpView', () => new TcpView()],
  ['IcmpView', () => new IcmpView()],
  ['ArpView', () => new ArpView()],
  ['VxlanView', () => new VxlanView()],
  ['VnetHdrView', () => new VnetHdrView() as unknown as AnyView],
];

/** Reads every getter, writes every setter back, calls every method. */
function exercise(view: object): void {
  const proto = Object.getPrototypeOf(view) as object;
  for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
    if (name === 'constructor' || name === 'wrap') continue;
    const target = view as Record<string, unknown>;
    if (d.get) {
      const value = target[name];
      if (d.set) target[name] = value;
    } else if (typeof d.value === 'function') {
      const fn = d.value as (...args: unknown[]) => unknown;
      fn.length === 0 ? fn.call(view) : fn.call(view, Buffer.alloc(6), 0);
    }
  }
}

const offsetArb = fc.oneof(fc.integer({ min: 0, max: 80 }), fc.constantFrom(-1, -20, 1e6));

describe('views over arbitrary bytes', () => {
  it.each(VIEWS)('%s never throws and isValid() is a boolean', (_name, make) => {
    fc.assert(
      fc.property(bytes(120), offsetArb, offsetArb, (buf, off, len) => {
        const v = make();
        v.wrap(buf, off, len);
        expect(typeof v.isValid()).toBe('boolean');
        exercise(v);
        expect(typeof v.isValid()).toBe('boolean');
      }),
    );
  });

  it('unwrapped views are invalid', () => {
    for (const [, make] of VIEWS) expect(make().isValid()).toBe(false);
  });
});

describe('builders and checksums over arbitrary bytes', () => {
  it('never throw', () => {
    fc.assert(
      fc.property(bytes(700), bytes(700), offsetArb, offsetArb, fc.integer(), (a, b, off, len, x) => {
        const n1 = buildIcmpError(b, off, a, off, len, 3, 3, x, x);
        const n2 = buildEchoReply(b, off, a, off, len);
        expect(n1 >= 0 && n1 <= 576 && n2 >= 0).toBe(true);
        expect(typeof icmpErrorAllowed(a, off, len)).toBe('boolean');
        const arp = new ArpView().wrap(a, off, len);
        expect([0, 60]).toContain(writeArpReply(b, off, arp, MAC_A));
        expect([0, 60]).toContain(writeArpRequest(b, off, MAC_A, x, x));
        expect(typeof completePartialChecksum(a, off, len, x & 0xffff, x & 0xff)).toBe('boolean');
        for (const n of [
          flowHash(a, off),
          computeUdpChecksum(a, off),
          computeTcpChecksum(a, off),
          internetChecksum(a, off, len),
        ]) {
          expect(Number.isInteger(n) && n >= 0 && n <= 0xffffffff).toBe(true);
        }
        writeVxlanHeader(b, off, x);
        writeVnetHdr(b, off, { flags: x });
      }),
    );
  });
});

describe('truncated packets are invalid', () => {
  const flow = { src: 0x0af40105, dst: 0x0af40209, srcPort: 1234, dstPort: 80, payload: Buffer.alloc(33, 7) };
  const arpFrame = hex(
    'ffffffffffff be6e727ddb21 0806 0001 0800 06 04 0001 be6e727ddb21 64735cce 000000000000 0a000001',
  );

  /** Cut `frame` at every length: the view at `off` must be invalid once fewer than `need` bytes remain. */
  function cutAll(frame: Buffer, off: number, need: number, make: () => AnyView) {
    const full = make();
    full.wrap(frame, off, frame.length - off);
    expect(full.isValid()).toBe(true);
    for (let cut = 0; cut < frame.length; cut++) {
      const t = frame.subarray(0, cut);
      const v = make();
      v.wrap(t, off, cut - off);
      if (cut - off < need) expect(v.isValid()).toBe(false);
    }
  }

  it('Ethernet', () => cutAll(udpFrame(flow), 0, 14, () => new EthernetView()));
  it('IPv4 (totalLength no longer fits)', () => cutAll(udpFrame(flow), 14, 20 + 8 + 33, () => new Ipv4View()));
  it('UDP (length no longer fits)', () => cutAll(udpFrame(flow), 34, 8 + 33, () => new UdpView()));
  it('TCP (header with options no longer fits)', () =>
    cutAll(tcpFrame(flow, Buffer.alloc(12, 1)), 34, 32, () => new TcpView()));
  it('ICMP', () => cutAll(capturedPing(), 20, 8, () => new IcmpView()));
  it('ARP', () => cutAll(arpFrame, 14, 28, () => new ArpView()));
  it('VXLAN', () => cutAll(CAPTURED_VXLAN, 42, 8, () => new VxlanView()));

  it('random truncations of the captured VXLAN packet break the outer IPv4 view', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: CAPTURED_VXLAN.length - 1 }), (cut) => {
        const t = Buffer.from(CAPTURED_VXLAN.subarray(0, cut));
        const eth = new EthernetView().wrap(t, 0, t.length);
        const ip = new Ipv4View().wrap(t, 14, t.length - 14);
        expect(eth.isValid() && ip.isValid()).toBe(false);
        expect(buildIcmpError(Buffer.alloc(600), 0, t, 14, t.length - 14, 3, 3, 1)).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});
