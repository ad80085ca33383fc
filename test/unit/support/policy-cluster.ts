// A small cluster for the policy model's truth tables, in the style of
// cyclonus and the upstream e2e tests: namespaces x, y, z × pods a, b, c,
// plus two addresses that are not pods (the lab's www and a node). Each
// table asks "which of these may reach that pod on this port?" and
// compares the answer with a list written by hand from the spec.

import { parseIpv4, ipv4ToString } from '../../../src/packet/index.js';
import {
  compilePolicies,
  policyNamespaceOf,
  DIR_EGRESS,
  DIR_INGRESS,
  PROTO_TCP,
  PROTO_UDP,
  PROTO_SCTP,
  VERDICT_DENY,
  type NetworkPolicyLite,
  type PolicyNamespace,
  type PolicyPod,
  type PolicySet,
} from '../../../src/policy/index.js';

export { PROTO_TCP, PROTO_UDP, PROTO_SCTP };

/** namespace labels: x prod, y dev + team=blue, z nothing but its name */
export const NAMESPACES: PolicyNamespace[] = [
  policyNamespaceOf({ metadata: { name: 'x', labels: { ns: 'x', env: 'prod' } } }),
  policyNamespaceOf({ metadata: { name: 'y', labels: { ns: 'y', env: 'dev', team: 'blue' } } }),
  policyNamespaceOf({ metadata: { name: 'z', labels: { ns: 'z' } } }),
];

/** tier: a web, b db, c none. Named port "http" is 80 on a, 8080 on b, absent on c; "dns" is UDP 53 on every pod. */
const TIER: Record<string, string | undefined> = { a: 'web', b: 'db', c: undefined };
const HTTP: Record<string, number | undefined> = { a: 80, b: 8080, c: undefined };

export const PODS: PolicyPod[] = ['x', 'y', 'z'].flatMap((ns, i) =>
  ['a', 'b', 'c'].map((name, j) => ({
    namespace: ns,
    name,
    ip: parseIpv4(`10.244.${i + 1}.${j + 2}`),
    labels: { pod: name, ...(TIER[name] ? { tier: TIER[name] } : {}) },
    ports: [
      { name: 'serve-80-tcp', port: 80, proto: PROTO_TCP },
      { name: 'serve-81-udp', port: 81, proto: PROTO_UDP },
      { name: 'dns', port: 53, proto: PROTO_UDP },
      ...(HTTP[name] ? [{ name: 'http', port: HTTP[name]!, proto: PROTO_TCP }] : []),
    ],
    nodeName: `node${i + 1}`,
  })),
);

/** not pods: the lab's www (outside the cluster) and node1 */
export const WWW = parseIpv4('172.28.0.200');
export const NODE1 = parseIpv4('172.28.0.11');

export const ALL = [...PODS.map((p) => `${p.namespace}/${p.name}`), 'www', 'node1'];

export function ipOf(who: string): number {
  if (who === 'www') return WWW;
  if (who === 'node1') return NODE1;
  const p = PODS.find((q) => `${q.namespace}/${q.name}` === who);
  if (!p) throw new Error(`no pod ${who} in the fixture`);
  return p.ip;
}

export function nameOf(ip: number): string {
  if (ip === WWW) return 'www';
  if (ip === NODE1) return 'node1';
  const p = PODS.find((q) => q.ip === ip);
  return p ? `${p.namespace}/${p.name}` : ipv4ToString(ip);
}

/** A NetworkPolicy in namespace ns (default x). */
export function np(name: string, spec: NonNullable<NetworkPolicyLite['spec']>, ns = 'x'): NetworkPolicyLite {
  return { metadata: { name, namespace: ns }, spec };
}

export function compile(...policies: NetworkPolicyLite[]): PolicySet {
  return compilePolicies(policies, PODS, NAMESPACES);
}

/** from → to allowed? Egress judged at the source, ingress at the destination (each only where it is a pod). */
export function allowed(set: PolicySet, from: string, to: string, proto = PROTO_TCP, port = 80): boolean {
  const src = ipOf(from);
  const dst = ipOf(to);
  return (
    set.judge(DIR_EGRESS, src, dst, proto, port) !== VERDICT_DENY &&
    set.judge(DIR_INGRESS, dst, src, proto, port) !== VERDICT_DENY
  );
}

/** Everyone (pods, www, node1) that may open a connection to `to` on proto/port. */
export function sourcesTo(set: PolicySet, to: string, proto = PROTO_TCP, port = 80): string[] {
  return ALL.filter((from) => from !== to && allowed(set, from, to, proto, port));
}

/** Everyone `from` may open a connection to on proto/port. */
export function destinationsFrom(set: PolicySet, from: string, proto = PROTO_TCP, port = 80): string[] {
  return ALL.filter((to) => to !== from && allowed(set, from, to, proto, port));
}

/** every source but `to` itself: what an open pod admits */
export function everyoneBut(...who: string[]): string[] {
  return ALL.filter((w) => !who.includes(w));
}
