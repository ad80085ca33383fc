/**
 * Cluster DNS (a CoreDNS-like server that runs as pods behind kube-dns):
 * the vocabulary shared by its parts.
 *
 *   corefile.ts   parse a Corefile into server blocks and plugin directives (pure)
 *   kubernetes-zone.ts  the `kubernetes` plugin's answers per the Kubernetes
 *                 DNS specification, from Services, EndpointSlices and Pods (pure)
 *   plugins/      the plugin chain (errors, log, health, ready, prometheus,
 *                 rewrite, cache, loadbalance, kubernetes, forward, loop, reload)
 *   server.ts     UDP and TCP sockets, the chain per query, EDNS0 and truncation
 *   run.ts        `podwire coredns`: the process a kube-dns pod runs
 *
 * Messages are dns-packet's Packet objects (its encode/decode is the wire format).
 */
import type { Answer as DnsRecord } from 'dns-packet';

export type { DnsRecord };

export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';

/** What a zone says about one question. */
export interface ZoneAnswer {
  rcode: Rcode;
  /** authoritative answer (AA) */
  authoritative: boolean;
  answers: DnsRecord[];
  /** SOA for NXDOMAIN / NODATA (negative caching, RFC 2308) */
  authority: DnsRecord[];
  additional: DnsRecord[];
}

/** One directive of a Corefile, with where it was written (errors name the line). */
export interface Directive {
  name: string;
  args: string[];
  /** a `{ … }` block's directives */
  block: Directive[];
  line: number;
}

/** `.:53 { … }`: the zones and port a server block serves, and its plugins in order of appearance. */
export interface ServerBlock {
  zones: string[];
  port: number;
  directives: Directive[];
  line: number;
}

export class CorefileError extends Error {
  readonly code = 'ERR_COREFILE';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`Corefile:${line}: ${message}`);
    this.name = 'CorefileError';
  }
}
