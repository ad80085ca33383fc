import {
  computeTcpChecksum,
  computeUdpChecksum,
  ETHERNET_HEADER_SIZE,
  ethernetHeader,
  ETHERTYPE_IPV4,
  ICMP_ECHO_REQUEST,
  ICMP_HEADER_SIZE,
  IcmpView,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_MIN_HEADER_SIZE,
  TCP_MIN_HEADER_SIZE,
  TCP_SYN,
  TcpView,
  tcpHeader,
  UDP_HEADER_SIZE,
  udpHeader,
  UdpView,
  writeIpv4Header,
} from '../packet/index.js';
import { TraceError } from './errors.js';

export type ProbeProto = 'tcp' | 'udp' | 'icmp';

export interface ProbeSpec {
  srcMac: Buffer;
  dstMac: Buffer;
  srcIp: number;
  dstIp: number;
  proto: ProbeProto;
  port: number;
  /** IPv4 identification: how the agents recognise the probe */
  id: number;
  ttl: number;
  /** IPv4 total length; the probe is padded up to it (DF set, so the path must carry it whole) */
  size: number;
}

const MARK = Buffer.from('podwire-trace');
const NO_OPTIONS = Buffer.alloc(0);

/**
 * A complete, valid probe frame: TCP SYN, UDP datagram or ICMP echo request,
 * DF set, checksums computed, padded to `size` so it tests the path MTU too.
 */
export function buildProbe(s: ProbeSpec): Buffer {
  const l4Header = s.proto === 'tcp' ? TCP_MIN_HEADER_SIZE : s.proto === 'udp' ? UDP_HEADER_SIZE : ICMP_HEADER_SIZE;
  const size = Math.max(s.size, IPV4_MIN_HEADER_SIZE + l4Header);
  const f = Buffer.alloc(ETHERNET_HEADER_SIZE + size);
  ethernetHeader.encode({ dst: s.dstMac, src: s.srcMac, etherType: ETHERTYPE_IPV4 }, f, 0);
  const ip = ETHERNET_HEADER_SIZE;
  const protocol = s.proto === 'tcp' ? IPPROTO_TCP : s.proto === 'udp' ? IPPROTO_UDP : IPPROTO_ICMP;
  const l4Len = size - IPV4_MIN_HEADER_SIZE;
  writeIpv4Header(f, ip, s.srcIp >>> 0, s.dstIp >>> 0, protocol, l4Len, s.ttl, s.id, 0, true);
  const l4 = ip + IPV4_MIN_HEADER_SIZE;
  MARK.copy(f, l4 + l4Header, 0, Math.min(MARK.length, l4Len - l4Header));
  const srcPort = 40000 + (s.id % 20000);
  if (s.proto === 'tcp') {
    tcpHeader.encode(
      {
        srcPort,
        dstPort: s.port,
        seq: (s.id * 65537) >>> 0,
        ack: 0,
        flags: TCP_SYN,
        window: 64240,
        checksum: 0,
        urgentPointer: 0,
        options: NO_OPTIONS,
      },
      f,
      l4,
    );
    new TcpView().wrap(f, l4, l4Len).checksum = computeTcpChecksum(f, ip);
  } else if (s.proto === 'udp') {
    udpHeader.encode({ srcPort, dstPort: s.port, length: l4Len, checksum: 0 }, f, l4);
    new UdpView().wrap(f, l4, l4Len).checksum = computeUdpChecksum(f, ip);
  } else {
    const icmp = new IcmpView().wrap(f, l4, l4Len);
    icmp.type = ICMP_ECHO_REQUEST;
    icmp.id = s.id;
    icmp.seq = 1;
    icmp.updateChecksum();
  }
  return f;
}

/** "web-2", "10.244.2.2", "10.244.2.2:80", "web-2:53/udp", "10.1.2.3/icmp" */
export function parseTarget(t: string): { host: string; port: number; proto: ProbeProto } {
  const m = /^([^:/]+)(?::(\d+))?(?:\/(tcp|udp|icmp))?$/.exec(t);
  if (!m) throw new TraceError('ERR_BAD_TARGET', `target "${t}" must look like <pod|ip>[:<port>][/tcp|udp|icmp]`);
  const port = m[2] ? Number(m[2]) : 0;
  if (m[2] && (port < 1 || port > 65535)) throw new TraceError('ERR_BAD_TARGET', `port ${m[2]} out of range`);
  const proto = (m[3] as ProbeProto | undefined) ?? (port ? 'tcp' : 'icmp');
  if (proto !== 'icmp' && !port)
    throw new TraceError('ERR_BAD_TARGET', `${proto} needs a port: ${m[1]}:<port>/${proto}`);
  return { host: m[1], port, proto };
}

/**
 * A Service as trace destination: `svc/NAME` or `svc/NAMESPACE/NAME`
 * (`service/` too), with an optional `:port` and `/tcp|udp`. Null when the
 * target does not name a Service that way (a pod or an address: see
 * parseTarget).
 */
export function parseServiceTarget(
  t: string,
): { namespace: string; name: string; port?: number; proto?: ProbeProto } | null {
  const m = /^(?:svc|service|services)\/(.+)$/.exec(t);
  if (!m) return null;
  let rest = m[1];
  let proto: ProbeProto | undefined;
  const p = /\/(tcp|udp|icmp)$/.exec(rest);
  if (p) {
    proto = p[1] as ProbeProto;
    rest = rest.slice(0, p.index);
  }
  const n = /^(?:([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/)?([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?::(\d+))?$/.exec(rest);
  if (!n)
    throw new TraceError('ERR_BAD_TARGET', `target "${t}" must look like svc/[<namespace>/]<name>[:<port>][/tcp|udp]`);
  const port = n[5] ? Number(n[5]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535))
    throw new TraceError('ERR_BAD_TARGET', `port ${n[5]} out of range`);
  if (proto === 'icmp')
    throw new TraceError(
      'ERR_BAD_TARGET',
      'a Service answers TCP and UDP ports only: trace svc/<name>[:<port>][/tcp|udp]',
    );
  return {
    namespace: n[1] ?? 'default',
    name: n[3],
    ...(port !== undefined ? { port } : {}),
    ...(proto ? { proto } : {}),
  };
}
