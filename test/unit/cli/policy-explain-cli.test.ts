import { describe, it, expect } from 'vitest';
import { explainConnection, parsePodRef, parseTarget, type ClusterObjects } from '../../../src/cli/policy-explain.js';
import { formatExplanation } from '../../../src/cli/policy-explain-format.js';

// `podwire explain-policy`: its arguments, its reasoning over fixed API
// objects, and its answer compared as exact text.

type Obj = Record<string, any>;
const ready = [{ type: 'Ready', status: 'True' }];
const pod = (
  ns: string,
  name: string,
  ip: string,
  node: string,
  labels: Obj,
  ports: Obj[] = [],
  extra: Obj = {},
): Obj => ({
  metadata: { name, namespace: ns, labels },
  spec: { nodeName: node, containers: [{ name: 'c', ports }], ...extra },
  status: { phase: 'Running', podIP: ip, conditions: ready },
});
const netpol = (name: string, spec: Obj, ns = 'default'): Obj => ({ metadata: { name, namespace: ns }, spec });

const PODS = [
  pod('default', 'client', '10.244.1.3', 'node1', { run: 'client' }),
  pod('default', 'frontend-1', '10.244.1.4', 'node1', { tier: 'frontend' }),
  pod('default', 'backend-1', '10.244.2.5', 'node2', { app: 'backend' }, [{ name: 'api', containerPort: 8080 }]),
  pod('default', 'backend-2', '10.244.1.5', 'node1', { app: 'backend' }, [{ name: 'api', containerPort: 9090 }]),
  {
    ...pod('default', 'backend-3', '10.244.3.5', 'node3', { app: 'backend' }, [{ name: 'api', containerPort: 8080 }]),
    status: { phase: 'Running', podIP: '10.244.3.5', conditions: [{ type: 'Ready', status: 'False' }] },
  },
  pod('kube-system', 'coredns-1', '10.244.1.2', 'node1', { 'k8s-app': 'kube-dns' }, [
    { name: 'dns', containerPort: 53, protocol: 'UDP' },
  ]),
  pod('default', 'node-agent', '172.28.0.12', 'node2', { run: 'agent' }, [], { hostNetwork: true }),
];
const SVC = {
  metadata: { name: 'backend', namespace: 'default' },
  spec: {
    clusterIP: '10.96.1.2',
    selector: { app: 'backend' },
    ports: [
      { name: 'http', port: 80, targetPort: 'api' },
      { name: 'metrics', port: 9100, targetPort: 9100 },
    ],
  },
};
const objs = (...policies: Obj[]): ClusterObjects => ({
  pods: PODS,
  namespaces: [{ metadata: { name: 'default' } }, { metadata: { name: 'kube-system' } }],
  policies,
  services: [SVC],
});
const explain = (o: ClusterObjects, from: string, to: string) =>
  explainConnection(o, parsePodRef(from, 'default'), parseTarget(to, 'default'));
const text = (o: ClusterObjects, from: string, to: string) => formatExplanation(explain(o, from, to));

const DENY_ALL = netpol('deny-all', { podSelector: {}, policyTypes: ['Ingress'] });
const ALLOW_FRONTEND = netpol('allow-frontend', {
  podSelector: { matchLabels: { app: 'backend' } },
  ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'frontend' } } }], ports: [{ port: 'api' }] }],
});

describe('arguments', () => {
  it('targets: pod, NS/pod, svc/NAME, svc/NS/NAME, a bare name; port number or name; protocol', () => {
    expect(parseTarget('web-1:80', 'x')).toEqual({
      kind: 'either',
      namespace: 'x',
      name: 'web-1',
      port: '80',
      protocol: undefined,
    });
    expect(parseTarget('y/web-1:http/UDP', 'x')).toEqual({
      kind: 'pod',
      namespace: 'y',
      name: 'web-1',
      port: 'http',
      protocol: 'UDP',
    });
    expect(parseTarget('pod/web-1:80/sctp', 'x')).toEqual({
      kind: 'pod',
      namespace: 'x',
      name: 'web-1',
      port: '80',
      protocol: 'SCTP',
    });
    expect(parseTarget('svc/web:80', 'x')).toEqual({
      kind: 'service',
      namespace: 'x',
      name: 'web',
      port: '80',
      protocol: undefined,
    });
    expect(parseTarget('service/y/web', 'x')).toEqual({
      kind: 'service',
      namespace: 'y',
      name: 'web',
      port: undefined,
      protocol: undefined,
    });
    expect(parsePodRef('client', 'x')).toEqual({ namespace: 'x', name: 'client' });
    expect(parsePodRef('y/client', 'x')).toEqual({ namespace: 'y', name: 'client' });
  });

  it('bad targets say what is expected', () => {
    expect(() => parseTarget('web:80/icmp', 'x')).toThrowError('"icmp" is not a protocol (tcp, udp or sctp)');
    expect(() => parseTarget('a/b/c:80', 'x')).toThrowError('"a/b/c" is not NAME, NS/NAME, pod/NAME or svc/[NS/]NAME');
    expect(() => parsePodRef('a/b/c', 'x')).toThrowError('"a/b/c" is not a pod (NAME or NS/NAME)');
    expect(() => explain(objs(), 'nobody', 'client:80')).toThrowError('pods "nobody" not found in namespace "default"');
    expect(() => explain(objs(), 'client', 'frontend-1')).toThrowError(
      'which port? default/frontend-1:<port>[/tcp|udp|sctp]',
    );
    expect(() => explain(objs(), 'client', 'backend-1:http')).toThrowError(
      'pod default/backend-1 has no container port named "http"',
    );
    expect(() => explain(objs(), 'client', 'svc/backend:81')).toThrowError(
      'service default/backend has no port 81 (its ports: 80/TCP (http), 9100/TCP (metrics))',
    );
  });
});

describe('pod to pod', () => {
  it('open both ways', () => {
    expect(text(objs(), 'client', 'backend-1:8080'))
      .toBe(`default/client (10.244.1.3, node1) → default/backend-1 (10.244.2.5, node2) TCP/8080
  egress at default/client: open — no policy isolates it for egress
  ingress at default/backend-1: open — no policy isolates it for ingress
verdict: allowed
`);
  });

  it('allowed by a rule (a named port, given by name, resolved on the destination)', () => {
    const e = explain(objs(DENY_ALL, ALLOW_FRONTEND), 'frontend-1', 'backend-1:api');
    expect(e.allowed).toBe(true);
    expect(formatExplanation(e))
      .toBe(`default/frontend-1 (10.244.1.4, node1) → default/backend-1 (10.244.2.5, node2) TCP/8080
  egress at default/frontend-1: open — no policy isolates it for egress
  ingress at default/backend-1: allowed by default/allow-frontend ingress[0]: from pods tier=frontend in namespace default on TCP port named "api"
verdict: allowed
`);
  });

  it('denied: the isolating policies, and rule by rule what did not match', () => {
    expect(text(objs(DENY_ALL, ALLOW_FRONTEND), 'client', 'backend-1:8080'))
      .toBe(`default/client (10.244.1.3, node1) → default/backend-1 (10.244.2.5, node2) TCP/8080
  egress at default/client: open — no policy isolates it for egress
  ingress at default/backend-1: denied — isolated by default/allow-frontend, default/deny-all; no rule allowed it
    default/allow-frontend ingress[0]: from pods tier=frontend in namespace default on TCP port named "api" — the port matches, the peer does not
verdict: denied (ingress at default/backend-1)
`);
    expect(text(objs(DENY_ALL), 'client', 'frontend-1:80'))
      .toBe(`default/client (10.244.1.3, node1) → default/frontend-1 (10.244.1.4, node1) TCP/80
  egress at default/client: open — no policy isolates it for egress
  ingress at default/frontend-1: denied — isolated by default/deny-all; no rule allowed it
    (the isolating policies have no ingress rule: deny all)
verdict: denied (ingress at default/frontend-1)
`);
  });

  it('denied at both ends; UDP to DNS across namespaces', () => {
    const egressDeny = netpol('no-egress', {
      podSelector: { matchLabels: { run: 'client' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: {} }], ports: [{ port: 53, protocol: 'UDP' }] }],
    });
    const dnsOnlyFromFrontend = netpol(
      'dns',
      {
        podSelector: {},
        ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { tier: 'frontend' } } }] }],
      },
      'kube-system',
    );
    expect(text(objs(egressDeny, dnsOnlyFromFrontend), 'client', 'kube-system/coredns-1:dns/udp'))
      .toBe(`default/client (10.244.1.3, node1) → kube-system/coredns-1 (10.244.1.2, node1) UDP/53
  egress at default/client: denied — isolated by default/no-egress; no rule allowed it
    default/no-egress egress[0]: to every pod in namespace default on UDP/53 — the port matches, the peer does not
  ingress at kube-system/coredns-1: denied — isolated by kube-system/dns; no rule allowed it
    kube-system/dns ingress[0]: from pods tier=frontend AND in every namespace on every port — the port matches, the peer does not
verdict: denied (egress at default/client and ingress at kube-system/coredns-1)
`);
  });

  it('a hostNetwork pod is no pod to policy: from its own node always allowed, elsewhere judged by its node’s IP', () => {
    const o = objs(DENY_ALL);
    expect(text(o, 'node-agent', 'backend-1:8080'))
      .toBe(`default/node-agent (172.28.0.12, node2, hostNetwork) → default/backend-1 (10.244.2.5, node2) TCP/8080
  egress at default/node-agent: not judged — a hostNetwork pod is no pod to NetworkPolicy: its traffic is its node’s
  ingress at default/backend-1: allowed — from the pod’s own node: always allowed
verdict: allowed
`);
    expect(explain(o, 'node-agent', 'backend-2:9090').verdict).toBe('denied');
  });
});

describe('through a Service: each backend pod on its target port', () => {
  it('named targetPort resolved per backend; a not-ready backend shown but not counted; partly allowed', () => {
    const allowClient8080 = netpol('allow-client', {
      podSelector: { matchLabels: { app: 'backend' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { run: 'client' } } }], ports: [{ port: 8080 }] }],
    });
    const e = explain(objs(allowClient8080), 'client', 'svc/backend:http');
    expect(e.verdict).toBe('partly-allowed');
    expect(e.allowed).toBe(false);
    expect(e.ports[0].paths.map((p) => [p.backend.name, p.port, p.ready, p.allowed])).toEqual([
      ['backend-1', 8080, true, true],
      ['backend-2', 9090, true, false],
      ['backend-3', 8080, false, true],
    ]);
    expect(formatExplanation(e))
      .toBe(`default/client (10.244.1.3, node1) → svc default/backend (10.96.1.2): judged after DNAT, on each backend pod and its target port
  port 80/TCP:
    default/backend-1 (10.244.2.5, node2) TCP/8080
      egress at default/client: open — no policy isolates it for egress
      ingress at default/backend-1: allowed by default/allow-client ingress[0]: from pods run=client in namespace default on TCP/8080
    default/backend-2 (10.244.1.5, node1) TCP/9090
      egress at default/client: open — no policy isolates it for egress
      ingress at default/backend-2: denied — isolated by default/allow-client; no rule allowed it
        default/allow-client ingress[0]: from pods run=client in namespace default on TCP/8080 — the peer matches, the port does not
    default/backend-3 (10.244.3.5, node3) TCP/8080 (not ready: the Service sends it no new connection)
      egress at default/client: open — no policy isolates it for egress
      ingress at default/backend-3: allowed by default/allow-client ingress[0]: from pods run=client in namespace default on TCP/8080
verdict: partly allowed (1 of 2 ready backends) — a new connection works only when the Service picks an allowed backend
`);
  });

  it('every port when none is given; a bare name that is no pod is the Service; verdicts allowed and denied', () => {
    const open = explain(objs(), 'client', 'backend');
    expect(open.to).toEqual({ kind: 'Service', namespace: 'default', name: 'backend', ip: '10.96.1.2' });
    expect(open.ports.map((p) => [p.port, p.paths.map((q) => q.port)])).toEqual([
      [80, [8080, 9090, 8080]],
      [9100, [9100, 9100, 9100]],
    ]);
    expect(formatExplanation(open).split('\n').slice(-2)).toEqual([
      'verdict: allowed (4 of 4 ready backend ports)',
      '',
    ]);
    expect(
      formatExplanation(explain(objs(DENY_ALL), 'client', 'svc/backend:80'))
        .split('\n')
        .slice(-2),
    ).toEqual(['verdict: denied (0 of 2 ready backends)', '']);
  });

  it('a backend without the named target port is no backend for it; no ready backend at all', () => {
    const svc = {
      metadata: { name: 'dns', namespace: 'default' },
      spec: {
        clusterIP: '10.96.1.9',
        selector: { tier: 'frontend' },
        ports: [{ port: 53, protocol: 'UDP', targetPort: 'dns' }],
      },
    };
    const e = explainConnection(
      { ...objs(), services: [svc] },
      { namespace: 'default', name: 'client' },
      parseTarget('svc/dns:53/udp', 'default'),
    );
    expect(formatExplanation(e))
      .toBe(`default/client (10.244.1.3, node1) → svc default/dns (10.96.1.9): judged after DNAT, on each backend pod and its target port
  port 53/UDP:
    default/frontend-1 (10.244.1.4, node1) — no container port named "dns" (UDP): not a backend for this port
verdict: no backend — no ready pod serves svc default/dns on that port: nothing to connect to
`);
    expect(e.verdict).toBe('no-backends');
  });
});
