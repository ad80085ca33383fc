import { describe, expect, it } from 'vitest';
import { addressBook, buildTopology, gatewayOf, type TopologyInput } from '../../../src/ui/index.js';

const meta = (name: string, namespace?: string, labels?: Record<string, string>) => ({
  name,
  ...(namespace ? { namespace } : {}),
  ...(labels ? { labels } : {}),
});
const pod = (name: string, ip: string, node: string, labels: Record<string, string>, ready = true) => ({
  metadata: meta(name, 'default', labels),
  spec: { nodeName: node },
  status: { podIP: ip, phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

const input: TopologyInput = {
  planNodes: [
    { name: 'node2', ip: '172.28.0.12', podCidr: '10.244.2.0/24' },
    { name: 'node1', ip: '172.28.0.11', podCidr: '10.244.1.0/24' },
  ],
  nodes: [{ metadata: meta('node1'), status: { conditions: [{ type: 'Ready', status: 'True' }] } }],
  pods: [
    pod('web-1', '10.244.2.5', 'node2', { app: 'web' }),
    pod('client', '10.244.1.4', 'node1', { app: 'client' }, false),
    {
      ...pod('coredns-0', '10.244.1.9', 'node1', { 'k8s-app': 'kube-dns' }),
      metadata: meta('coredns-0', 'kube-system', { 'k8s-app': 'kube-dns' }),
    },
    pod('ingress-nginx-controller-x', '10.244.2.9', 'node2', { 'app.kubernetes.io/name': 'ingress-nginx' }),
    { metadata: meta('hostnet', 'default'), spec: { hostNetwork: true, nodeName: 'node1' }, status: {} },
  ],
  services: [
    {
      metadata: meta('web', 'default'),
      spec: {
        type: 'NodePort',
        clusterIP: '10.96.0.20',
        ports: [{ port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }],
      },
    },
  ],
  endpointSlices: [
    {
      metadata: meta('web-abc', 'default', { 'kubernetes.io/service-name': 'web' }),
      ports: [{ port: 8080 }],
      endpoints: [
        {
          addresses: ['10.244.2.5'],
          conditions: { ready: true },
          targetRef: { kind: 'Pod', name: 'web-1', namespace: 'default' },
        },
        { addresses: ['10.244.1.200'], conditions: { ready: false } },
      ],
    },
    {
      metadata: meta('other-x', 'default', { 'kubernetes.io/service-name': 'other' }),
      endpoints: [{ addresses: ['1.2.3.4'] }],
    },
  ],
  policies: [
    { metadata: meta('deny-all', 'default'), spec: { podSelector: {} } },
    { metadata: meta('web-in', 'default'), spec: { podSelector: { matchLabels: { app: 'web' } }, egress: [{}] } },
  ],
  ingresses: [
    { metadata: meta('site', 'default'), spec: { rules: [{ host: 'b.example' }, { host: 'a.example' }, {}] } },
  ],
  agents: { node1: 'up', node2: 'down' },
};

describe('the topology model', () => {
  it('draws nodes from the plan and the API: underlay IP, pod CIDR, cbr0 gateway, readiness, agent', () => {
    expect(buildTopology(input).nodes).toEqual([
      { name: 'node1', ip: '172.28.0.11', podCidr: '10.244.1.0/24', gateway: '10.244.1.1', ready: true, agent: 'up' },
      {
        name: 'node2',
        ip: '172.28.0.12',
        podCidr: '10.244.2.0/24',
        gateway: '10.244.2.1',
        ready: false,
        agent: 'down',
      },
    ]);
    expect(gatewayOf('10.244.7.0/24')).toBe('10.244.7.1');
    expect(gatewayOf('nonsense')).toBe('');
  });

  it('lists pods sorted by namespace/name, with roles for DNS and ingress, and leaves host-network pods out', () => {
    const pods = buildTopology(input).pods;
    expect(pods.map((p) => `${p.namespace}/${p.name} ${p.ip} ${p.node} ${p.ready} ${p.role ?? '-'}`)).toEqual([
      'default/client 10.244.1.4 node1 false -',
      'default/ingress-nginx-controller-x 10.244.2.9 node2 true ingress',
      'default/web-1 10.244.2.5 node2 true -',
      'kube-system/coredns-0 10.244.1.9 node1 true dns',
    ]);
  });

  it('joins Services with their EndpointSlices into backends', () => {
    expect(buildTopology(input).services).toEqual([
      {
        namespace: 'default',
        name: 'web',
        type: 'NodePort',
        clusterIP: '10.96.0.20',
        ports: [{ port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }],
        backends: [
          { ip: '10.244.1.200', port: 8080, ready: false },
          { pod: 'default/web-1', ip: '10.244.2.5', port: 8080, ready: true },
        ],
      },
    ]);
  });

  it('renders policies as kubectl does and ingresses by host', () => {
    const t = buildTopology(input);
    expect(t.policies).toEqual([
      { namespace: 'default', name: 'deny-all', podSelector: '<none>', policyTypes: ['Ingress'] },
      { namespace: 'default', name: 'web-in', podSelector: 'app=web', policyTypes: ['Ingress', 'Egress'] },
    ]);
    expect(t.ingresses).toEqual([{ namespace: 'default', name: 'site', hosts: ['*', 'a.example', 'b.example'] }]);
  });

  it('gives the same JSON for the same cluster whatever order the lists came in', () => {
    const shuffled = { ...input, pods: [...input.pods].reverse(), planNodes: [...input.planNodes].reverse() };
    expect(JSON.stringify(buildTopology(shuffled))).toBe(JSON.stringify(buildTopology(input)));
  });

  it('names addresses: pods by IP, nodes by underlay IP', () => {
    const book = addressBook(buildTopology(input));
    expect(book.pod('10.244.2.5')).toEqual({ id: 'default/web-1', node: 'node2' });
    expect(book.node('172.28.0.11')).toBe('node1');
    expect(book.pod('8.8.8.8')).toBeUndefined();
  });
});
