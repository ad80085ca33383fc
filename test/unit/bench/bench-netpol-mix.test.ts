import { describe, it, expect } from 'vitest';
import type { KubeObject } from '../../../src/control/client/index.js';
import {
  HTTP_PORT,
  IPERF_PORT,
  NETBENCH_NS,
  blockingPolicy,
  clientPod,
  mixSummary,
  netbenchNamespaces,
  netpolMix,
  policyName,
  probePod,
  serverPod,
} from '../../../src/bench/netpol-mix.js';
import { compileObjects, verdictWork } from '../../../src/bench/netpol-work.js';
import { DIR_INGRESS, PROTO_TCP, VERDICT_DENY, VERDICT_OPEN } from '../../../src/policy/index.js';
import { parseIpv4 } from '../../../src/packet/index.js';

// `bench netpol`'s policy mix, compiled by the policy model the agents run:
// the measured connections are allowed only by the two policies that sort
// last (so a verdict walks the server's whole rule list), the server is
// selected by a good share of the mix, every kind of selector/port/ipBlock
// is in it, and the blocking change really blocks the probes.

const CLIENT_IP = '10.244.1.5';
const SERVER_IP = '10.244.2.7';
const withIp = (pod: KubeObject, ip: string): KubeObject => ({ ...pod, status: { phase: 'Running', podIP: ip } });
const pods = [
  withIp(clientPod('node1'), CLIENT_IP),
  withIp(serverPod('node2'), SERVER_IP),
  withIp(probePod('probe-1', 'node1'), '10.244.1.9'),
  withIp(probePod('probe-2', 'node2'), '10.244.2.9'),
];
const namespaces = netbenchNamespaces();

describe('bench netpol: the policy mix', () => {
  const mix = netpolMix(1000, '10.244.1.0/24');

  it('is 1,000 policies in netbench, named in order, the same on every run', () => {
    expect(mix).toHaveLength(1000);
    expect(mix.every((p) => p.metadata.namespace === NETBENCH_NS)).toBe(true);
    expect(mix.map((p) => p.metadata.name)).toEqual(Array.from({ length: 1000 }, (_, i) => policyName(i)));
    expect(netpolMix(1000, '10.244.1.0/24')).toEqual(mix);
    expect(netpolMix(1000, '10.244.1.0/24', 13)).not.toEqual(mix);
  });

  it('holds every kind of peer and port the issue names', () => {
    const s = mixSummary(mix);
    expect(s.ingressRules).toBeGreaterThan(1000);
    expect(s.egressRules).toBeGreaterThan(300);
    for (const k of [
      'podSelectorPeers',
      'namespaceSelectorPeers',
      'andPeers',
      'ipBlocks',
      'ipBlocksWithExcept',
      'portsByNumber',
      'portsByName',
      'portRanges',
      'protocolOnly',
    ] as const) {
      expect(s[k], k).toBeGreaterThan(50);
    }
  });

  it('selects the server in a good share; its connection is allowed by the last rule it has', () => {
    for (const port of [HTTP_PORT, IPERF_PORT]) {
      const w = verdictWork(mix, pods, namespaces, CLIENT_IP, SERVER_IP, port);
      expect(w.ingress.policies).toBeGreaterThan(400);
      expect(w.ingress.rules).toBeGreaterThan(w.ingress.policies);
      expect(w.ingress.allowedAt).toBe(w.ingress.rules);
      expect(w.egress.policies).toBeGreaterThan(150);
      expect(w.egress.allowedAt).toBe(w.egress.rules - 1); // the egress policy's first rule, its second goes to the probes
    }
  });

  it('without the two allowing policies, the same connections are denied both ways', () => {
    const set = compileObjects(mix.slice(0, -2), pods, namespaces);
    for (const port of [HTTP_PORT, IPERF_PORT]) {
      expect(set.judge(DIR_INGRESS, parseIpv4(SERVER_IP), parseIpv4(CLIENT_IP), PROTO_TCP, port)).toBe(VERDICT_DENY);
      expect(verdictWork(mix.slice(0, -2), pods, namespaces, CLIENT_IP, SERVER_IP, port).egress.allowedAt).toBe(-1);
    }
  });

  it('leaves the probes open, and the blocking change closes them to the client', () => {
    for (const probe of ['10.244.1.9', '10.244.2.9']) {
      const open = verdictWork(mix, pods, namespaces, CLIENT_IP, probe, HTTP_PORT);
      expect(open.ingress.allowedAt).toBe(0);
      expect(open.egress.allowedAt).toBeGreaterThan(0);
      const set = compileObjects([...mix, blockingPolicy()], pods, namespaces);
      expect(set.judge(DIR_INGRESS, parseIpv4(probe), parseIpv4(CLIENT_IP), PROTO_TCP, HTTP_PORT)).toBe(VERDICT_DENY);
    }
  });

  it('with no policies everything is open', () => {
    const w = verdictWork(netpolMix(0, '10.244.1.0/24'), pods, namespaces, CLIENT_IP, SERVER_IP, HTTP_PORT);
    expect(w.ingress).toEqual({ policies: 0, rules: 0, allowedAt: 0 });
    expect(
      compileObjects([], pods, namespaces).judge(
        DIR_INGRESS,
        parseIpv4(SERVER_IP),
        parseIpv4(CLIENT_IP),
        PROTO_TCP,
        HTTP_PORT,
      ),
    ).toBe(VERDICT_OPEN);
  });
});
