/**
 * The cluster DNS add-on as kubeadm installs it (and kind runs it): the
 * ConfigMap `coredns` with the Corefile the articles print, the Deployment
 * `coredns` (2 replicas, label k8s-app=kube-dns, the CoreDNS image, which
 * podwire maps to its own server: `podwire coredns`), and the Service
 * `kube-dns` at 10.96.0.10 (DNS over UDP and TCP, metrics), and its identity
 * as CoreDNS's upstream manifest has it: the ServiceAccount kube-system/coredns,
 * the ClusterRole system:coredns (list/watch Endpoints, Services, Pods,
 * Namespaces, EndpointSlices) and its binding; plus a Role to read the
 * ConfigMap `coredns` in kube-system, which podwire's CoreDNS reads through the
 * API (no volumes) where CoreDNS reads its mounted file. The lab and the
 * compose cluster apply these at start; they are ordinary objects, so
 * `kubectl -n kube-system edit configmap coredns` or `scale deploy coredns`
 * work as in a real cluster.
 */
export const CLUSTER_DNS_IP = '10.96.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';
export const COREDNS_IMAGE = 'registry.k8s.io/coredns/coredns:v1.11.3';

/** The Corefile as the articles print it (kubeadm's default). */
export const DEFAULT_COREFILE = `.:53 {
    errors
    health {
        lameduck 5s
    }
    ready
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
        max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;

const labels = { 'k8s-app': 'kube-dns' };

const bootstrapping = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const RBAC = 'rbac.authorization.k8s.io/v1';

/** CoreDNS's ServiceAccount and RBAC (deployments/coredns.yaml.sed upstream, and a Role for the Corefile's ConfigMap). */
export function corednsRbac(): Record<string, unknown>[] {
  const subject = { kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: 'kube-system' } },
    {
      apiVersion: RBAC,
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns', labels: bootstrapping },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: RBAC,
      kind: 'ClusterRoleBinding',
      metadata: {
        name: 'system:coredns',
        labels: bootstrapping,
        annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
      },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [subject],
    },
    {
      apiVersion: RBAC,
      kind: 'Role',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: RBAC,
      kind: 'RoleBinding',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'coredns' },
      subjects: [subject],
    },
  ];
}

export function corednsAddon(opts: { replicas?: number; corefile?: string } = {}): Record<string, unknown>[] {
  return [
    ...corednsRbac(),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      data: { Corefile: opts.corefile ?? DEFAULT_COREFILE },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system', labels },
      spec: {
        replicas: opts.replicas ?? 2,
        selector: { matchLabels: labels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'coredns',
            // CoreDNS must not resolve through itself: the node's resolver (the lab's outside)
            dnsPolicy: 'Default',
            containers: [
              {
                name: 'coredns',
                image: COREDNS_IMAGE,
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                  { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
                ],
                livenessProbe: {
                  httpGet: { path: '/health', port: 8080 },
                  initialDelaySeconds: 5,
                  periodSeconds: 10,
                  timeoutSeconds: 5,
                  failureThreshold: 5,
                },
                readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
                volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
              },
            ],
            volumes: [
              { name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'kube-dns',
        namespace: 'kube-system',
        labels: { ...labels, 'kubernetes.io/name': 'CoreDNS' },
        annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
      },
      spec: {
        selector: labels,
        clusterIP: CLUSTER_DNS_IP,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
        ],
      },
    },
  ];
}
