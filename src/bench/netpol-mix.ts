import type { KubeObject } from '../control/client/index.js';

/**
 * The objects `bench netpol` writes: a namespace `netbench` holding a
 * client pod (tier=web, node1) and a server pod (tier=api, node2), a few
 * empty namespaces for namespaceSelectors to find, and `count`
 * NetworkPolicies in `netbench` — a realistic mix, seeded so every run
 * writes the same ones:
 *
 *   selected pods  the server (tier/app labels, matchExpressions, {}) in
 *                  about half, the client (egress) in a fifth, labels no
 *                  pod carries in the rest
 *   peers          podSelector on app/tier; namespaceSelector alone (labels
 *                  and matchExpressions) and ANDed with a podSelector;
 *                  ipBlock with except
 *   ports          by number, by name (http, metrics: resolved on the
 *                  destination pod), ranges (endPort), protocol only
 *
 * None of the mix admits client → server on the measured ports (80 and
 * the iperf3 port) nor client → the probe pods: the two allowing policies
 * are named to sort last (np-…: the compiler keeps policies in name
 * order), so a verdict walks every rule the server has before the one
 * that allows the connection — the linear rule list's worst case. Many
 * rules match the port and fail on the peer (the named port `http` is 80
 * on the server; ranges cover 80; an ipBlock of the pod network excepts
 * the client's node), so the walk checks peers, not only ports.
 */
export const NETBENCH_NS = 'netbench';
export const PROBE_NS = 'netbench-probe';
export const HTTP_PORT = 80;
export const IPERF_PORT = 5201;
export const SERVER_LABELS = { app: 'api', tier: 'api', version: 'v2' };
export const CLIENT_LABELS = { app: 'web', tier: 'web' };
export const PROBE_LABELS = { app: 'probe' };

/** The namespaces: the bench's, the probes', and three empty ones for namespaceSelectors to select. */
export function netbenchNamespaces(): KubeObject[] {
  const ns = (name: string, labels: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels },
  });
  return [
    ns(NETBENCH_NS, { team: 't0', env: 'prod' }),
    ns(PROBE_NS, { env: 'test' }),
    ns('netbench-dev', { team: 't1', env: 'dev' }),
    ns('netbench-staging', { team: 't2', env: 'staging' }),
    ns('netbench-batch', { team: 't3', env: 'prod' }),
  ];
}

/** The server: podwire's built-in nginx on 80 (+ metrics 9090) and a sidecar declaring the iperf3 port by name (iperf3 runs in its netns). */
export function serverPod(node: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'server', namespace: NETBENCH_NS, labels: SERVER_LABELS },
    spec: {
      nodeName: node,
      containers: [
        {
          name: 'web',
          image: 'nginx',
          ports: [
            { name: 'http', containerPort: HTTP_PORT },
            { name: 'metrics', containerPort: 9090 },
          ],
        },
        { name: 'iperf', image: 'busybox', ports: [{ name: 'iperf', containerPort: IPERF_PORT }] },
      ],
    },
  };
}

export function clientPod(node: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'client', namespace: NETBENCH_NS, labels: CLIENT_LABELS },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] },
  };
}

/** A probe target for the change timing: nginx on 80, in its own namespace (no policy of the mix selects it). */
export function probePod(name: string, node: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: PROBE_NS, labels: PROBE_LABELS },
    spec: {
      nodeName: node,
      containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: HTTP_PORT }] }],
    },
  };
}

/** The change whose enforcement is timed: every probe pod's ingress denied (created = blocked, deleted = open again). */
export function blockingPolicy(): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'netbench-block-probes', namespace: PROBE_NS },
    spec: { podSelector: { matchLabels: PROBE_LABELS }, policyTypes: ['Ingress'] },
  };
}

/** mulberry32: a small seeded generator, so every run writes the same mix. */
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

export const policyName = (i: number) => `np-${String(i).padStart(4, '0')}`;

type Obj = Record<string, unknown>;

/**
 * `count` NetworkPolicies for `netbench`. `clientCidr` is the client's
 * node's pod CIDR: the pod-network ipBlocks except it, so they match the
 * server's other peers and never the client.
 */
export function netpolMix(count: number, clientCidr: string, seed = 12): KubeObject[] {
  const r = rng(seed);
  const pick = <T>(l: readonly T[]): T => l[Math.floor(r() * l.length)];
  const some = <T>(max: number, make: () => T): T[] => Array.from({ length: 1 + Math.floor(r() * max) }, make);
  const app = () => ({ matchLabels: { app: `app-${Math.floor(r() * 20)}` } });

  const selectServer = () =>
    pick<Obj>([
      { matchLabels: { tier: 'api' } },
      { matchLabels: { app: 'api' } },
      { matchLabels: { app: 'api', version: 'v2' } },
      { matchExpressions: [{ key: 'tier', operator: 'In', values: ['api', 'db'] }] },
    ]);
  const selectClient = () =>
    pick<Obj>([
      { matchLabels: { tier: 'web' } },
      { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'web-canary'] }] },
    ]);
  const selectNobody = () =>
    pick<Obj>([
      app(),
      { matchLabels: { tier: 'db' } },
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['api', 'web'] }] },
    ]);

  // ingress rules that never admit the client (tier=web in netbench, env=prod, team=t0)
  const ingressRule = (): Obj =>
    pick<() => Obj>([
      () => ({ from: [{ podSelector: app() }], ports: [{ port: pick<number | string>([8080, 'http']) }] }),
      () => ({
        from: [
          {
            namespaceSelector: { matchLabels: { env: pick(['dev', 'staging']) } },
            podSelector: { matchLabels: { tier: 'web' } },
          },
        ],
        ports: [{ port: 'http' }],
      }),
      () => ({
        from: [
          { namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['t1', 't2'] }] } },
          { podSelector: { matchLabels: { tier: 'batch' } } },
        ],
        ports: [{ port: 80, endPort: 90 }],
      }),
      () => ({
        from: [{ ipBlock: { cidr: '10.244.0.0/16', except: [clientCidr] } }],
        ports: [{ port: 80, endPort: 8080 }],
      }),
      () => ({
        from: [{ ipBlock: { cidr: '172.28.0.0/24', except: ['172.28.0.100/32'] } }],
        ports: [{ port: 443 }, { port: 'metrics' }],
      }),
      () => ({
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
        ports: [{ port: 'metrics' }],
      }),
      () => ({
        from: [{ podSelector: app() }, { podSelector: { matchLabels: { tier: 'batch' } } }],
        ports: [{ protocol: 'UDP' }],
      }),
    ])();
  // egress rules that never admit the client to the server or to the probes
  const egressRule = (): Obj =>
    pick<() => Obj>([
      () => ({ to: [{ podSelector: { matchLabels: { tier: 'db' } } }], ports: [{ port: 5432, endPort: 5440 }] }),
      () => ({
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      }),
      () => ({
        to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] } }],
        ports: [{ port: 80 }, { port: 443 }],
      }),
      () => ({ to: [{ podSelector: app() }], ports: [{ port: 'http' }] }),
      () => ({
        to: [{ namespaceSelector: { matchLabels: { env: 'dev' } }, podSelector: { matchLabels: { tier: 'api' } } }],
        ports: [{ port: 80, endPort: 5300 }],
      }),
    ])();

  const policy = (i: number, spec: Obj): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: policyName(i), namespace: NETBENCH_NS, labels: { bench: 'netpol' } },
    spec,
  });
  const out: KubeObject[] = [];
  const mixed = count >= 2 ? count - 2 : count;
  for (let i = 0; i < mixed; i++) {
    const k = r();
    if (k < 0.01)
      out.push(policy(i, { podSelector: {}, policyTypes: ['Ingress'] })); // a namespace's default deny
    else if (k < 0.04) out.push(policy(i, { podSelector: {}, ingress: [ingressRule()] }));
    else if (k < 0.5) {
      const both = r() < 0.2;
      out.push(
        policy(i, {
          podSelector: selectServer(),
          ...(both ? { policyTypes: ['Ingress', 'Egress'], egress: some(2, egressRule) } : {}),
          ingress: some(3, ingressRule),
        }),
      );
    } else if (k < 0.7)
      out.push(policy(i, { podSelector: selectClient(), policyTypes: ['Egress'], egress: some(3, egressRule) }));
    else
      out.push(
        policy(i, {
          podSelector: selectNobody(),
          ingress: some(2, ingressRule),
          ...(r() < 0.3 ? { egress: some(2, egressRule) } : {}),
        }),
      );
  }
  if (count >= 2) {
    // what lets the measured connections through: sorted last, so every verdict walks the rest first
    out.push(
      policy(count - 2, {
        podSelector: { matchLabels: { tier: 'api' } },
        ingress: [
          { from: [{ podSelector: { matchLabels: { tier: 'web' } } }], ports: [{ port: 'http' }, { port: 'iperf' }] },
        ],
      }),
    );
    out.push(
      policy(count - 1, {
        podSelector: { matchLabels: { tier: 'web' } },
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ podSelector: { matchLabels: { tier: 'api' } } }],
            ports: [{ port: HTTP_PORT }, { port: IPERF_PORT }],
          },
          {
            to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': PROBE_NS } } }],
            ports: [{ port: HTTP_PORT }],
          },
        ],
      }),
    );
  }
  return out;
}

export interface MixSummary {
  policies: number;
  ingressRules: number;
  egressRules: number;
  podSelectorPeers: number;
  namespaceSelectorPeers: number;
  /** peers with both selectors (ANDed) */
  andPeers: number;
  ipBlocks: number;
  ipBlocksWithExcept: number;
  portsByNumber: number;
  portsByName: number;
  portRanges: number;
  protocolOnly: number;
}

/** What the mix is made of, for the log and the test. */
export function mixSummary(policies: readonly KubeObject[]): MixSummary {
  const s: MixSummary = {
    policies: policies.length,
    ingressRules: 0,
    egressRules: 0,
    podSelectorPeers: 0,
    namespaceSelectorPeers: 0,
    andPeers: 0,
    ipBlocks: 0,
    ipBlocksWithExcept: 0,
    portsByNumber: 0,
    portsByName: 0,
    portRanges: 0,
    protocolOnly: 0,
  };
  for (const np of policies) {
    const rules = [
      ...(np.spec.ingress ?? []).map((x: Obj) => ({ peers: x.from, ports: x.ports })),
      ...(np.spec.egress ?? []).map((x: Obj) => ({ peers: x.to, ports: x.ports })),
    ];
    s.ingressRules += np.spec.ingress?.length ?? 0;
    s.egressRules += np.spec.egress?.length ?? 0;
    for (const { peers, ports } of rules as { peers?: Obj[]; ports?: Obj[] }[]) {
      for (const p of peers ?? []) {
        if (p.podSelector) s.podSelectorPeers++;
        if (p.namespaceSelector) s.namespaceSelectorPeers++;
        if (p.podSelector && p.namespaceSelector) s.andPeers++;
        if (p.ipBlock) {
          s.ipBlocks++;
          if (((p.ipBlock as Obj).except as unknown[] | undefined)?.length) s.ipBlocksWithExcept++;
        }
      }
      for (const p of ports ?? []) {
        if (p.port === undefined) s.protocolOnly++;
        else if (typeof p.port === 'string') s.portsByName++;
        else if (p.endPort !== undefined) s.portRanges++;
        else s.portsByNumber++;
      }
    }
  }
  return s;
}
