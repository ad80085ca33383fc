/**
 * `--proxy-mode linear`: the same frontends evaluated the way kube-proxy's
 * iptables mode evaluates them, to teach it and to measure it against the
 * hash table (O(rules) per new flow against O(1)).
 *
 *   KUBE-SERVICES    one rule per (service IP, port, protocol), scanned top to
 *                    bottom; its last rule jumps to KUBE-NODEPORTS (one rule
 *                    per nodePort)
 *   KUBE-SVC-<hash>  one rule per endpoint; rule i of n matches with
 *                    probability 1/(n−i) (`-m statistic --mode random`), the
 *                    last always, so each endpoint gets 1/n
 *   KUBE-SEP-<hash>  DNAT to the endpoint
 *
 * Chain names as kube-proxy derives them (pkg/proxy/iptables/proxier.go,
 * portProtoHash and servicePortEndpointChainName): the first 16 characters
 * of base32(sha256(servicePortName + protocol)), with "ip:port" appended for
 * KUBE-SEP; servicePortName is "ns/name:portName" ("ns/name" when the port
 * has no name) and protocol is lower case. So kube-dns's "dns" port is
 * KUBE-SVC-TCOU7JCQXEZGVUNU here as on every cluster.
 */

import { createHash } from 'node:crypto';
import { ipv4ToString } from '../packet/index.js';
import { protoName, type Backend, type Frontend, type Scheduler } from './types.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (Go's base32.StdEncoding), without padding. */
function base32(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff;
    bits += 8;
    for (; bits >= 5; bits -= 5) out += BASE32[(acc >>> (bits - 5)) & 31];
  }
  return bits ? out + BASE32[(acc << (5 - bits)) & 31] : out;
}

/** kube-proxy's portProtoHash: 16 base32 characters of sha256(servicePortName + protocol). */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return base32(
    createHash('sha256')
      .update(servicePortName + protocol)
      .digest(),
  ).slice(0, 16);
}

/** kube-proxy's servicePortEndpointChainName: KUBE-SEP- + 16 base32 characters of sha256(servicePortName + protocol + "ip:port"). */
export function endpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${portProtoHash(servicePortName, protocol + endpoint)}`;
}

/** kube-proxy's ServicePortName.String(): "ns/name:port", or "ns/name" for an unnamed port. */
export function servicePortName(f: Pick<Frontend, 'service' | 'portName'>): string {
  return f.portName ? `${f.service}:${f.portName}` : f.service;
}

/** `--probability` of the rule that has n endpoints left: 1/n as kube-proxy prints it (%0.10f). */
export function statisticProbability(n: number): string {
  return (1 / n).toFixed(10);
}

/**
 * Walks a KUBE-SVC chain of n endpoint rules: rule i matches when random()
 * < 1/(n−i) (iptables' statistic match), the last rule always. Returns the
 * endpoint's index; the rules examined are index + 1.
 */
export function walkEndpointRules(n: number, random: () => number): number {
  for (let i = 0; i < n - 1; i++) if (random() < 1 / (n - i)) return i;
  return n - 1;
}

/** A Scheduler that picks as a KUBE-SVC chain of n rules does (uniform, flow hash ignored). */
export function statisticScheduler(n: number, random: () => number): Scheduler {
  return {
    name: 'random',
    pick: () => walkEndpointRules(n, random),
    explain: (_flowHash, _srcIp, i) =>
      i < n - 1
        ? `KUBE-SVC rule ${i + 1} of ${n} matched (statistic --mode random --probability ${statisticProbability(n - i)})`
        : `KUBE-SVC rule ${n} of ${n} (the last rule always matches)`,
  };
}

/**
 * KUBE-SERVICES and KUBE-NODEPORTS as ordered rule lists. lookup scans them
 * one by one and counts the rules it examined. A frontend without endpoints
 * is a rule here too (kube-proxy puts its REJECT in the filter table), so
 * both modes find the same frontends.
 */
export class LinearTable {
  private services: Frontend[] = [];
  private nodePorts: Frontend[] = [];
  /** rules examined by the latest lookup / lookupNodePort */
  lastRulesExamined = 0;
  /** rules examined by every lookup so far */
  rulesExamined = 0;
  lookups = 0;

  /** Rewrites both chains (kube-proxy rewrites them whole on every sync too). */
  rebuild(frontends: Iterable<Frontend>): void {
    this.services = [];
    this.nodePorts = [];
    for (const f of frontends) (f.ip === 0 ? this.nodePorts : this.services).push(f);
  }

  get ruleCount(): number {
    return this.services.length + this.nodePorts.length;
  }

  /** `-d ip/32 -p proto --dport port`, first match wins. */
  lookup(ip: number, port: number, proto: number): Frontend | undefined {
    return this.scan(this.services, ip >>> 0, port, proto);
  }

  /** KUBE-NODEPORTS: `-p proto --dport nodePort` (any local address). */
  lookupNodePort(port: number, proto: number): Frontend | undefined {
    return this.scan(this.nodePorts, 0, port, proto);
  }

  private scan(rules: Frontend[], ip: number, port: number, proto: number): Frontend | undefined {
    let found: Frontend | undefined;
    let i = 0;
    for (; i < rules.length; i++) {
      const f = rules[i];
      if (f.ip === ip && f.port === port && f.proto === proto) {
        found = f;
        i++;
        break;
      }
    }
    this.lastRulesExamined = i;
    this.rulesExamined += i;
    this.lookups++;
    return found;
  }
}

const BUILTIN_CHAINS = ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'];
const MASQ_MARK = '0x4000';
/** kube-proxy's fixed jumps and masquerade chains (default --iptables-masquerade-bit 14). */
const FIXED_RULES: [string, string][] = [
  ['PREROUTING', '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
  ['OUTPUT', '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
  ['POSTROUTING', '-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING'],
  ['KUBE-MARK-MASQ', `-j MARK --set-xmark ${MASQ_MARK}/${MASQ_MARK}`],
  ['KUBE-POSTROUTING', `-m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`],
  ['KUBE-POSTROUTING', `-j MARK --set-xmark ${MASQ_MARK}/0x0`],
  ['KUBE-POSTROUTING', '-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully'],
];

/** A comment as iptables-save prints it (xtables_save_string): bare if only [-_0-9A-Za-z], else quoted. */
function saveString(s: string): string {
  return /^[-_0-9A-Za-z]+$/.test(s) ? s : `"${s.replace(/["\\']/g, '\\$&')}"`;
}
const comment = (s: string) => `-m comment --comment ${saveString(s)}`;

/**
 * The nat table kube-proxy's iptables mode would program for these
 * frontends, as `iptables-save -t nat` prints it (iptables-legacy: built-in
 * chains first, then user chains sorted; rules grouped by chain; fields in
 * iptables' normalized order). Differences, on purpose: no "# Generated by"
 * lines (they carry a date); `--probability` as kube-proxy writes it
 * (0.3333333333), where the kernel's 31-bit fixed point reads back as
 * 0.33333333349; no cluster-CIDR masquerade rule (podwire's SNAT decision is
 * `snatExternal`); no KUBE-FW chains (loadBalancerSourceRanges is not
 * modelled). Service ports with no usable endpoint at all are left out, as
 * kube-proxy REJECTs them in the filter table.
 */
export function iptablesSave(frontends: Iterable<Frontend>): string {
  const chains = new Map<string, string[]>([
    ['KUBE-SERVICES', []],
    ['KUBE-NODEPORTS', []],
  ]);
  const rule = (chain: string, text: string) => {
    const rules = chains.get(chain) ?? [];
    rules.push(`-A ${chain} ${text}`);
    chains.set(chain, rules);
  };
  for (const [chain, text] of FIXED_RULES) rule(chain, text);
  const groups = new Map<string, Frontend[]>();
  for (const f of frontends) {
    const key = `${f.service}\0${f.portName}\0${f.proto}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  for (const group of groups.values()) writeServicePort(group, rule);
  rule(
    'KUBE-SERVICES',
    `${comment('kubernetes service nodeports; NOTE: this must be the last rule in this chain')} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`,
  );

  const user = [...chains.keys()].filter((c) => !BUILTIN_CHAINS.includes(c)).sort();
  const lines = ['*nat', ...BUILTIN_CHAINS.map((c) => `:${c} ACCEPT [0:0]`), ...user.map((c) => `:${c} - [0:0]`)];
  for (const c of [...BUILTIN_CHAINS, ...user]) lines.push(...(chains.get(c) ?? []));
  return `${lines.join('\n')}\nCOMMIT\n`;
}

/** One service port's rules: KUBE-SERVICES / KUBE-NODEPORTS jumps, KUBE-EXT, KUBE-SVC / KUBE-SVL, KUBE-SEP. */
function writeServicePort(group: Frontend[], rule: (chain: string, text: string) => void): void {
  const first = group[0];
  if (!first.allBackends.some((b) => b.ready || (b.serving && b.terminating))) return;
  const spn = servicePortName(first);
  const p = protoName(first.proto).toLowerCase();
  const hash = portProtoHash(spn, p);
  const [svc, svl, ext] = [`KUBE-SVC-${hash}`, `KUBE-SVL-${hash}`, `KUBE-EXT-${hash}`];
  const clusterSide = group.find((f) => !f.localOnly);
  const localSide = group.find((f) => f.localOnly);
  const cluster = clusterSide?.backends ?? [];
  const local = localSide?.backends ?? [];
  const dst = (f: Frontend, what: string) =>
    `-d ${ipv4ToString(f.ip)}/32 -p ${p} ${comment(`${spn} ${what}`)} -m ${p} --dport ${f.port}`;

  for (const f of group) {
    if (f.type === 'ClusterIP') {
      if (f.backends.length) rule('KUBE-SERVICES', `${dst(f, 'cluster IP')} -j ${f.localOnly ? svl : svc}`);
    } else if (f.type === 'NodePort')
      rule('KUBE-NODEPORTS', `-p ${p} ${comment(spn)} -m ${p} --dport ${f.port} -j ${ext}`);
    else rule('KUBE-SERVICES', `${dst(f, f.type === 'ExternalIP' ? 'external IP' : 'loadbalancer IP')} -j ${ext}`);
  }

  const external = group.find((f) => f.type !== 'ClusterIP');
  if (external && !external.localOnly) {
    rule(ext, `${comment(`masquerade traffic for ${spn} external destinations`)} -j KUBE-MARK-MASQ`);
  } else if (external) {
    rule(
      ext,
      `${comment(`masquerade LOCAL traffic for ${spn} external destinations`)} -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
    );
    if (cluster.length)
      rule(
        ext,
        `${comment(`route LOCAL traffic for ${spn} external destinations`)} -m addrtype --src-type LOCAL -j ${svc}`,
      );
  }
  if (external?.backends.length) rule(ext, `-j ${external.localOnly ? svl : svc}`);

  const seconds = first.affinityTimeoutMs / 1000;
  const sepOf = (b: Backend) => endpointChainName(spn, p, `${ipv4ToString(b.ip)}:${b.port}`);
  const toEndpoints = (chain: string, eps: readonly Backend[]) => {
    const arrow = (b: Backend) => comment(`${spn} -> ${ipv4ToString(b.ip)}:${b.port}`);
    if (seconds)
      for (const b of eps)
        rule(
          chain,
          `${arrow(b)} -m recent --rcheck --seconds ${seconds} --reap --name ${sepOf(b)} --mask 255.255.255.255 --rsource -j ${sepOf(b)}`,
        );
    eps.forEach((b, i) => {
      const statistic =
        i < eps.length - 1 ? ` -m statistic --mode random --probability ${statisticProbability(eps.length - i)}` : '';
      rule(chain, `${arrow(b)}${statistic} -j ${sepOf(b)}`);
    });
  };
  if (clusterSide) toEndpoints(svc, cluster);
  if (localSide) toEndpoints(svl, local);

  const recent = (b: Backend) =>
    seconds ? ` -m recent --set --name ${sepOf(b)} --mask 255.255.255.255 --rsource` : '';
  for (const b of new Set([...(clusterSide ? cluster : []), ...local])) {
    const sep = sepOf(b);
    rule(sep, `-s ${ipv4ToString(b.ip)}/32 ${comment(spn)} -j KUBE-MARK-MASQ`);
    rule(sep, `-p ${p} ${comment(spn)}${recent(b)} -m ${p} -j DNAT --to-destination ${ipv4ToString(b.ip)}:${b.port}`);
  }
}
