import { describe, it, expect } from 'vitest';
import { DESCRIBERS } from '../../../src/cli/kube/index.js';
import { explainedSection } from '../../../src/cli/policy-describe.js';

// `podwire describe netpol`: kubectl's text unchanged, then podwire's
// "Explained:" part — compared as exact text on fixed objects.
process.env.TZ = 'UTC';

type Obj = Record<string, any>;
const nsObj = (name: string, labels: Obj = {}): Obj => ({
  metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
});
const podObj = (ns: string, name: string, ip: string, labels: Obj, ports: Obj[] = [{ containerPort: 8080 }]): Obj => ({
  metadata: { name, namespace: ns, labels },
  spec: { containers: [{ name: 'c', ports }] },
  status: { phase: 'Running', podIP: ip },
});
const NAMESPACES = [nsObj('default'), nsObj('kube-system'), nsObj('shop', { team: 'shop' })];
const PODS = [
  podObj('default', 'backend-6c9f-k2x8p', '10.244.1.5', { app: 'backend', tier: 'backend' }),
  podObj('default', 'backend-6c9f-q7w4z', '10.244.2.5', { app: 'backend', tier: 'backend' }),
  podObj('default', 'client', '10.244.1.3', { run: 'client' }),
  podObj('default', 'frontend-7d4b-m9n2c', '10.244.3.4', { app: 'frontend', tier: 'frontend' }, [
    { name: 'http', containerPort: 80 },
  ]),
  podObj('kube-system', 'coredns-5d78-abcde', '10.244.1.2', { 'k8s-app': 'kube-dns' }, [
    { name: 'dns', containerPort: 53, protocol: 'UDP' },
  ]),
  podObj('shop', 'web-0', '10.244.2.9', { tier: 'frontend' }),
  {
    metadata: { name: 'node-exporter', namespace: 'default', labels: { tier: 'frontend' } },
    spec: { hostNetwork: true, containers: [{ name: 'c' }] },
    status: { phase: 'Running', podIP: '172.28.0.11' },
  },
];
const netpol = (name: string, spec: Obj): Obj => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: '2024-05-01T11:00:00Z' },
  spec,
});

describe('podwire describe netpol', () => {
  it('the AND/OR mistake: kubectl’s text, then the policy in words with the pods each rule admits and the warning', () => {
    const np = netpol('allow-frontend-to-backend', {
      podSelector: { matchLabels: { tier: 'backend' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'default' } } },
            { podSelector: { matchLabels: { tier: 'frontend' } } },
          ],
          ports: [{ port: 8080 }],
        },
      ],
    });
    expect(DESCRIBERS.NetworkPolicy(np, { events: null, pods: PODS, namespaces: NAMESPACES }, 0))
      .toBe(`Name:         allow-frontend-to-backend
Namespace:    default
Created on:   2024-05-01 11:00:00 +0000 UTC
Labels:       <none>
Annotations:  <none>
Spec:
  PodSelector:     tier=backend
  Allowing ingress traffic:
    To Port: 8080/TCP
    From:
      NamespaceSelector: kubernetes.io/metadata.name=default
    From:
      PodSelector: tier=frontend
  Not affecting egress traffic
  Policy Types: Ingress

Explained:
  Selects: pods tier=backend in namespace default — 2 now: backend-6c9f-k2x8p, backend-6c9f-q7w4z
  Ingress: isolated — the selected pods accept only what one of these rules (or another policy selecting them) allows:
    ingress[0]: from (every pod in namespaces kubernetes.io/metadata.name=default) OR (pods tier=frontend in namespace default) on TCP/8080
      pods it admits now: default/backend-6c9f-k2x8p, default/backend-6c9f-q7w4z, default/client, default/frontend-7d4b-m9n2c
  Egress: not affected — policyTypes has no Egress: this policy neither isolates nor allows egress
  Warnings:
    ingress[0] lists a namespaceSelector and a podSelector as two peers: they are ORed (any pod in those namespaces, OR those pods in default). For pods matching both, put both selectors in ONE peer (no "-" before podSelector).
`);
  });

  it('the same written as one peer: AND, no warning; the frontend of another namespace stays out', () => {
    const np = netpol('allow-frontend-to-backend', {
      podSelector: { matchLabels: { tier: 'backend' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { team: 'shop' } },
              podSelector: { matchLabels: { tier: 'frontend' } },
            },
          ],
          ports: [{ port: 8080 }],
        },
      ],
    });
    expect(explainedSection(np, PODS, NAMESPACES)).toBe(`Explained:
  Selects: pods tier=backend in namespace default — 2 now: backend-6c9f-k2x8p, backend-6c9f-q7w4z
  Ingress: isolated — the selected pods accept only what one of these rules (or another policy selecting them) allows:
    ingress[0]: from pods tier=frontend AND in namespaces team=shop on TCP/8080
      pods it admits now: shop/web-0
  Egress: not affected — policyTypes has no Egress: this policy neither isolates nor allows egress
`);
  });

  it('default deny both ways, then an egress allow for DNS: deny-all words, every pod (the hostNetwork one is no pod)', () => {
    const deny = netpol('default-deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(explainedSection(deny, PODS, NAMESPACES)).toBe(`Explained:
  Selects: every pod in namespace default — 4 now: backend-6c9f-k2x8p, backend-6c9f-q7w4z, client, frontend-7d4b-m9n2c
  Ingress: isolated, with no rule — the selected pods accept no ingress connection unless another policy selecting them allows it
  Egress: isolated, with no rule — the selected pods open no egress connection unless another policy selecting them allows it
`);
    const dns = netpol('allow-dns', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { protocol: 'UDP', port: 'dns' },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    });
    expect(explainedSection(dns, PODS, NAMESPACES)).toBe(`Explained:
  Selects: every pod in namespace default — 4 now: backend-6c9f-k2x8p, backend-6c9f-q7w4z, client, frontend-7d4b-m9n2c
  Ingress: not affected — policyTypes has no Ingress: this policy neither isolates nor allows ingress
  Egress: isolated — the selected pods open only what one of these rules (or another policy selecting them) allows:
    egress[0]: to pods k8s-app=kube-dns AND in namespaces kubernetes.io/metadata.name=kube-system on UDP port named "dns", TCP/53
      pods it reaches now: kube-system/coredns-5d78-abcde
`);
  });

  it('a named port none of the selected pods has; a rule `{}`; a policy that selects nothing', () => {
    const named = netpol('allow-http-to-backend', {
      podSelector: { matchLabels: { app: 'backend' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ ports: [{ port: 'http' }] }],
      egress: [{}],
    });
    expect(explainedSection(named, PODS, NAMESPACES)).toBe(`Explained:
  Selects: pods app=backend in namespace default — 2 now: backend-6c9f-k2x8p, backend-6c9f-q7w4z
  Ingress: isolated — the selected pods accept only what one of these rules (or another policy selecting them) allows:
    ingress[0]: from anywhere on TCP port named "http"
  Egress: isolated — the selected pods open only what one of these rules (or another policy selecting them) allows:
    egress[0]: to anywhere on every port
  Warnings:
    ingress[0]: no pod it selects has a TCP port named "http" — a named port is resolved on the destination pod (the selected pod), so that entry admits nothing.
`);
    const nothing = netpol('typo', {
      podSelector: { matchLabels: { app: 'bakend' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ ipBlock: { cidr: '172.28.0.0/24', except: ['172.28.0.11/32'] } }] }],
    });
    expect(explainedSection(nothing, PODS, NAMESPACES)).toBe(`Explained:
  Selects: pods app=bakend in namespace default — none now
  Ingress: isolated — the selected pods accept only what one of these rules (or another policy selecting them) allows:
    ingress[0]: from 172.28.0.0/24 except 172.28.0.11/32 on every port
      pods it admits now: none
  Egress: not affected — policyTypes has no Egress: this policy neither isolates nor allows egress
`);
  });

  it('long lists are cut after ten names', () => {
    const many = Array.from({ length: 13 }, (_, i) =>
      podObj('default', `web-${String(i).padStart(2, '0')}`, `10.244.4.${i + 2}`, { app: 'web' }),
    );
    const text = explainedSection(
      netpol('web', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [] }),
      many,
      NAMESPACES,
    );
    expect(text.split('\n')[1]).toBe(
      '  Selects: pods app=web in namespace default — 13 now: web-00, web-01, web-02, web-03, web-04, web-05, web-06, web-07, web-08, web-09 … and 3 more',
    );
  });
});
