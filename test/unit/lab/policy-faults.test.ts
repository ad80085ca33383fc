// The NetworkPolicy faults as data: registered with their targets, and the
// policies they add judged by the project's own model against the demo app's
// pods — so each fault does what its summary says (the lab test then shows it
// on real packets).

import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../../src/lab/faults.js';
import { faultPolicy, faultPolicyName, missingPortName, LAB_FAULT_LABEL } from '../../../src/lab/policy-faults.js';
import {
  compilePolicies,
  policyOf,
  DIR_EGRESS,
  DIR_INGRESS,
  VERDICT_DENY,
  VERDICT_OPEN,
  PROTO_TCP,
  PROTO_UDP,
  type PolicyPod,
} from '../../../src/policy/index.js';
import { parseIpv4 } from '../../../src/packet/ipv4-address.js';

const pod = (
  namespace: string,
  name: string,
  ip: string,
  labels: Record<string, string>,
  ports: PolicyPod['ports'] = [],
): PolicyPod => ({ namespace, name, ip: parseIpv4(ip), labels, ports });
const client = pod('default', 'client', '10.244.1.3', {});
const frontend = pod('default', 'frontend-1', '10.244.2.3', { tier: 'frontend' }, [
  { name: 'http', port: 3000, proto: PROTO_TCP },
]);
const backend = pod('default', 'backend-1', '10.244.3.3', { tier: 'backend' }, [{ port: 8080, proto: PROTO_TCP }]);
const coredns = pod('kube-system', 'coredns-1', '10.244.1.2', { 'k8s-app': 'kube-dns' }, [
  { name: 'dns', port: 53, proto: PROTO_UDP },
]);
const other = pod('team', 'tool', '10.244.2.9', { tier: 'frontend' });
const pods = [client, frontend, backend, coredns, other];
const namespaces = ['default', 'kube-system', 'team'].map((name) => ({ name, labels: {} }));
const judge = (
  np: Record<string, any>,
  dir: typeof DIR_INGRESS | typeof DIR_EGRESS,
  at: PolicyPod,
  peer: PolicyPod,
  proto: number,
  port: number,
) => compilePolicies([policyOf(np)], pods, namespaces).judge(dir, at.ip, peer.ip, proto, port);

describe('NetworkPolicy scenarios', () => {
  it('are registered after the DNS ones, with their targets and defaults', () => {
    const names = SCENARIOS.map((s) => s.name);
    const policy = SCENARIOS.filter((s) => ['default-deny-dns', 'or-not-and', 'named-port-missing'].includes(s.name));
    expect(policy.map((s) => [s.name, s.target, s.defaultTarget])).toEqual([
      ['default-deny-dns', 'namespace', 'default'],
      ['or-not-and', 'service', 'backend'],
      ['named-port-missing', 'service', 'backend'],
    ]);
    expect(names.indexOf('default-deny-dns')).toBeGreaterThan(names.indexOf('dns-no-endpoints'));
  });

  it('name their policy after the target, labelled as a lab fault', () => {
    expect(faultPolicyName('default-deny-dns', 'shop')).toEqual({ namespace: 'shop', name: 'default-deny-all' });
    expect(faultPolicyName('or-not-and', 'backend')).toEqual({
      namespace: 'default',
      name: 'allow-frontend-to-backend',
    });
    expect(faultPolicyName('named-port-missing', 'shop/api')).toEqual({ namespace: 'shop', name: 'allow-http-to-api' });
    expect(faultPolicy('default-deny-dns', 'default').metadata.labels).toEqual({
      [LAB_FAULT_LABEL]: 'default-deny-dns',
    });
  });

  it('default-deny-dns: the namespace’s pods may not ask kube-dns (egress UDP 53 denied), nor be reached', () => {
    const np = faultPolicy('default-deny-dns', 'default');
    expect(judge(np, DIR_EGRESS, client, coredns, PROTO_UDP, 53)).toBe(VERDICT_DENY);
    expect(judge(np, DIR_INGRESS, backend, client, PROTO_TCP, 8080)).toBe(VERDICT_DENY);
    // another namespace is untouched
    expect(judge(np, DIR_EGRESS, other, coredns, PROTO_UDP, 53)).toBe(VERDICT_OPEN);
  });

  it('or-not-and: ORed peers admit the client (any pod of the namespace); the AND it meant would not', () => {
    const np = faultPolicy('or-not-and', 'backend', { selector: { tier: 'backend' } });
    expect(np.spec.ingress[0].from).toHaveLength(2);
    expect(judge(np, DIR_INGRESS, backend, client, PROTO_TCP, 8080)).toBeGreaterThan(0);
    expect(judge(np, DIR_INGRESS, backend, frontend, PROTO_TCP, 8080)).toBeGreaterThan(0);
    // a frontend-labelled pod of another namespace: the pod peer is the policy's own namespace only
    expect(judge(np, DIR_INGRESS, backend, other, PROTO_TCP, 8080)).toBe(VERDICT_DENY);
    const [nsPeer, podPeer] = np.spec.ingress[0].from;
    const meant = { ...np, spec: { ...np.spec, ingress: [{ from: [{ ...nsPeer, ...podPeer }] }] } };
    expect(judge(meant, DIR_INGRESS, backend, client, PROTO_TCP, 8080)).toBe(VERDICT_DENY);
    expect(judge(meant, DIR_INGRESS, backend, frontend, PROTO_TCP, 8080)).toBeGreaterThan(0);
  });

  it('named-port-missing: picks a name no target pod declares, and the rule then allows nothing', () => {
    const k8sPod = (ports: { name?: string }[]) => ({ spec: { containers: [{ ports }] } });
    expect(missingPortName([k8sPod([{}])])).toBe('http');
    expect(missingPortName([k8sPod([{ name: 'http' }])])).toBe('web');
    const np = faultPolicy('named-port-missing', 'backend', { selector: { tier: 'backend' }, portName: 'http' });
    expect(np.spec.ingress[0]).toEqual({ ports: [{ protocol: 'TCP', port: 'http' }] });
    expect(judge(np, DIR_INGRESS, backend, client, PROTO_TCP, 8080)).toBe(VERDICT_DENY);
    // the same rule on the frontend, whose port 3000 is named http, allows it
    const onFrontend = faultPolicy('named-port-missing', 'frontend', {
      selector: { tier: 'frontend' },
      portName: 'http',
    });
    expect(judge(onFrontend, DIR_INGRESS, frontend, client, PROTO_TCP, 3000)).toBeGreaterThan(0);
  });
});
