import { describe, it, expect } from 'vitest';
import { parseIpv4 } from '../../../src/packet/index.js';
import {
  DIR_EGRESS,
  DIR_INGRESS,
  VERDICT_DENY,
  compilePolicies,
  type NetworkPolicyLite,
  type PolicyNamespace,
  type PolicyPod,
} from '../../../src/policy/index.js';
import { oracleAllows, oracleRuleCount, type Cluster } from '../support/policy-oracle.js';

// 1,000 policies over 500 pods in 10 namespaces with a realistic mix of
// selectors (matchLabels, matchExpressions, AND and OR peers), ports
// (numbers, names, endPort, protocol only) and ipBlocks. Checked: the
// compiled model agrees with the spec read literally (support/policy-oracle)
// on thousands of random connections, and a pod's rule list holds exactly
// the rules of the policies selecting it — what judge() walks. Timings are
// printed, not asserted (a shared 2-core machine).

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TIERS = ['web', 'api', 'db', 'cache'];
const ENVS = ['prod', 'dev', 'staging'];

export function realisticCluster(seed = 12, nsCount = 10, podsPerNs = 50, policyCount = 1000): Cluster {
  const r = rng(seed);
  const pick = <T>(l: readonly T[]): T => l[Math.floor(r() * l.length)];
  const namespaces: PolicyNamespace[] = Array.from({ length: nsCount }, (_, i) => ({
    name: `team-${i}`,
    labels: { 'kubernetes.io/metadata.name': `team-${i}`, team: `t${i % 4}`, env: ENVS[i % 3] },
  }));
  const pods: PolicyPod[] = namespaces.flatMap((ns, i) =>
    Array.from({ length: podsPerNs }, (_, j) => {
      const app = `app-${Math.floor(r() * 20)}`;
      const labels: Record<string, string> = { app, tier: TIERS[Number(app.slice(4)) % 4] };
      if (r() < 0.7) labels.version = pick(['v1', 'v2']);
      return {
        namespace: ns.name,
        name: `${app}-${j}`,
        ip: parseIpv4(`10.244.${i + 1}.${j + 2}`),
        labels,
        ports: [
          { name: 'http', port: r() < 0.5 ? 8080 : 80, proto: 6 },
          { name: 'metrics', port: 9090, proto: 6 },
          ...(r() < 0.3 ? [{ name: 'dns', port: 53, proto: 17 }] : []),
        ],
      };
    }),
  );
  const app = () => ({ matchLabels: { app: `app-${Math.floor(r() * 20)}` } });
  const policies: NetworkPolicyLite[] = Array.from({ length: policyCount }, (_, i) => {
    const ns = namespaces[i % nsCount].name;
    const meta = { name: `p-${i}`, namespace: ns };
    const kind = i < nsCount ? -1 : r();
    if (kind < 0) return { metadata: meta, spec: { podSelector: {}, policyTypes: ['Ingress'] } };
    if (kind < 0.3)
      return {
        metadata: meta,
        spec: { podSelector: app(), ingress: [{ from: [{ podSelector: app() }], ports: [{ port: 8080 }] }] },
      };
    if (kind < 0.45) {
      return {
        metadata: meta,
        spec: {
          podSelector: app(),
          ingress: [
            {
              from: [
                {
                  namespaceSelector: { matchLabels: { env: pick(ENVS) } },
                  podSelector: { matchLabels: { tier: 'web' } },
                },
              ],
              ports: [{ port: 'http' }],
            },
          ],
        },
      };
    }
    if (kind < 0.55) {
      return {
        metadata: meta,
        spec: {
          podSelector: { matchLabels: { tier: 'db' } },
          ingress: [
            {
              from: [
                { namespaceSelector: { matchLabels: { team: `t${Math.floor(r() * 4)}` } } },
                { podSelector: app() },
              ],
              ports: [{ port: 5432, endPort: 5440 }],
            },
          ],
        },
      };
    }
    if (kind < 0.7) {
      const names = [pick(namespaces).name, pick(namespaces).name];
      return {
        metadata: meta,
        spec: {
          podSelector: app(),
          egress: [
            {
              to: [
                { podSelector: { matchLabels: { tier: 'api' } } },
                {
                  namespaceSelector: {
                    matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: names }],
                  },
                },
              ],
              ports: [{ protocol: 'UDP', port: 53 }, { port: 443 }],
            },
            {
              to: [{ podSelector: {}, namespaceSelector: { matchLabels: { env: 'prod' } } }],
              ports: [{ port: 'metrics' }, { protocol: 'UDP', port: 'dns' }],
            },
          ],
        },
      };
    }
    if (kind < 0.8)
      return {
        metadata: meta,
        spec: {
          podSelector: app(),
          policyTypes: ['Egress'],
          egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.244.0.0/16'] } }], ports: [{ port: 443 }] }],
        },
      };
    if (kind < 0.9) {
      return {
        metadata: meta,
        spec: {
          podSelector: {
            matchExpressions: [
              { key: 'tier', operator: 'In', values: ['web', 'api'] },
              { key: 'version', operator: 'NotIn', values: ['v1'] },
            ],
          },
          ingress: [{ ports: [{ protocol: 'UDP' }] }],
        },
      };
    }
    const n = 1 + Math.floor(r() * nsCount);
    return {
      metadata: meta,
      spec: {
        podSelector: { matchExpressions: [{ key: 'version', operator: r() < 0.5 ? 'Exists' : 'DoesNotExist' }] },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ ipBlock: { cidr: `10.244.${n}.0/24`, except: [`10.244.${n}.0/28`] } }] }],
        egress: [],
      },
    };
  });
  return { policies, pods, namespaces };
}

const OUTSIDE = ['172.28.0.200', '8.8.8.8'].map(parseIpv4);

describe('1,000 policies over a realistic label mix', () => {
  const cluster = realisticCluster();

  it('compile in well under a second; the verdicts agree with the spec read literally', () => {
    const runs: number[] = [];
    let set = compilePolicies(cluster.policies, cluster.pods, cluster.namespaces);
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      set = compilePolicies(cluster.policies, cluster.pods, cluster.namespaces);
      runs.push(performance.now() - t0);
    }
    runs.sort((a, b) => a - b);
    console.log(
      `compile: 1,000 policies × ${cluster.pods.length} pods in ${runs[2].toFixed(1)} ms (median of 5; min ${runs[0].toFixed(1)}, max ${runs[4].toFixed(1)}), ${set.isolatedPods} pods isolated`,
    );

    const r = rng(99);
    const ips = [...cluster.pods.map((p) => p.ip), ...OUTSIDE];
    const flows: [number, number, number, number][] = [];
    for (let i = 0; i < 4000; i++) {
      const proto = [6, 6, 6, 17, 17, 132, 1][Math.floor(r() * 7)];
      const port = proto === 1 ? 0 : [53, 80, 443, 5432, 5436, 5441, 8080, 9090][Math.floor(r() * 8)];
      flows.push([ips[Math.floor(r() * ips.length)], ips[Math.floor(r() * ips.length)], proto, port]);
    }
    const counts = { allowed: 0, denied: 0 };
    for (const [a, b, proto, port] of flows) {
      for (const ingress of [true, false]) {
        const got = set.judge(ingress ? DIR_INGRESS : DIR_EGRESS, a, b, proto, port) !== VERDICT_DENY;
        const want = oracleAllows(cluster, ingress, a, b, proto, port);
        if (got !== want)
          expect.fail(
            `${ingress ? 'ingress' : 'egress'} pod ${a} peer ${b} proto ${proto} port ${port}: model ${got}, spec ${want}`,
          );
        counts[got ? 'allowed' : 'denied']++;
      }
    }
    console.log(
      `agreement with the spec oracle on ${flows.length * 2} verdicts (${counts.allowed} allowed, ${counts.denied} denied)`,
    );
    // a mix that tests something: both answers occur often
    expect(counts.denied).toBeGreaterThan(1000);
    expect(counts.allowed).toBeGreaterThan(1000);
  });

  it('a judge() walks only the rules of the policies selecting that pod', () => {
    const set = compilePolicies(cluster.policies, cluster.pods, cluster.namespaces);
    let most = { ip: 0, n: -1 };
    let fewest = { ip: 0, n: Infinity };
    for (const p of cluster.pods) {
      for (const ingress of [true, false]) {
        const rules = set.rulesOf(p.ip, ingress ? DIR_INGRESS : DIR_EGRESS);
        expect(rules?.length ?? 0).toBe(oracleRuleCount(cluster, ingress, p.ip));
        if (ingress && rules && rules.length > most.n) most = { ip: p.ip, n: rules.length };
        if (ingress && rules && rules.length < fewest.n) fewest = { ip: p.ip, n: rules.length };
      }
    }
    const totalRules = cluster.policies.reduce(
      (n, np) => n + (np.spec?.ingress?.length ?? 0) + (np.spec?.egress?.length ?? 0),
      0,
    );
    // what a judge may walk is a small part of the whole
    expect(most.n).toBeLessThan(totalRules / 10);

    // time a denied verdict (the longest walk: every rule of the pod) for the two pods
    const peer = parseIpv4('8.8.8.8');
    const nsPerJudge = (ip: number) => {
      const N = 200_000;
      let sink = 0;
      const t0 = performance.now();
      for (let i = 0; i < N; i++) sink += set.judge(DIR_INGRESS, ip, peer, 6, 12345);
      const ns = ((performance.now() - t0) * 1e6) / N;
      expect(sink).toBe(-N);
      return ns;
    };
    nsPerJudge(most.ip); // warm up
    const many = nsPerJudge(most.ip);
    const few = nsPerJudge(fewest.ip);
    console.log(
      `judge (denied, all rules walked): ${few.toFixed(0)} ns with ${fewest.n} ingress rules, ${many.toFixed(0)} ns with ${most.n} (of ${totalRules} rules in the set)`,
    );
  });
});
