/**
 * The ingress add-on, as ingress-nginx's "cloud" deploy manifest installs
 * it (deploy/static/provider/cloud/deploy.yaml) and as the articles'
 * commands expect it: namespace `ingress-nginx`; the Deployment
 * `ingress-nginx-controller` (labels app.kubernetes.io/name=ingress-nginx,
 * instance, component=controller; the controller image, which podwire maps
 * to its own controller: `podwire ingress-controller`); the LoadBalancer
 * Service `ingress-nginx-controller` (http 80, https 443,
 * externalTrafficPolicy Local: the client's address reaches the access
 * log, as in the cloud manifest), which the lab's cloud load balancer gives
 * an EXTERNAL-IP; the IngressClass `nginx` (the default class); and, for
 * the Gateway API, the GatewayClass `cilium` (controllerName
 * io.cilium/gateway-controller, as the article's Gateway names its class)
 * served by the same pods.
 *
 * Its identity as the upstream manifest's: the ServiceAccount
 * ingress-nginx/ingress-nginx, the ClusterRole and Role `ingress-nginx` and
 * their bindings — trimmed to what this controller reads and writes (no
 * leases, nodes or ConfigMaps: its leader is chosen from its pods), and
 * widened by what its Gateway API part does (as Cilium's operator role:
 * Gateway API objects and their status; the Gateways' Services and
 * EndpointSlices). Left out of the upstream manifest: the admission webhook
 * (its ServiceAccount and roles too) and its Jobs, the image's
 * LD_PRELOAD (mimalloc) and preStop /wait-shutdown (podwire runs neither:
 * the controller drains on SIGTERM itself). Changed: the
 * readiness probe asks every second from the start (upstream: after 10 s,
 * every 10 s) so that `lab up` does not wait on it.
 */
export const INGRESS_NAMESPACE = 'ingress-nginx';
export const INGRESS_CONTROLLER_NAME = 'ingress-nginx-controller';
export const INGRESS_IMAGE = 'registry.k8s.io/ingress-nginx/controller:v1.11.3';
export const INGRESS_CLASS_NAME = 'nginx';
export const GATEWAY_CLASS_NAME = 'cilium';
export const INGRESS_LABEL_SELECTOR = 'app.kubernetes.io/name=ingress-nginx';

const base = { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/instance': 'ingress-nginx' };
const controllerLabels = { ...base, 'app.kubernetes.io/component': 'controller' };

/** 2 replicas where there are 3 nodes or more (one per node, a spare), else 1. */
export const defaultReplicas = (nodes: number): number => (nodes >= 3 ? 2 : 1);

export interface IngressAddonOptions {
  replicas?: number;
}

/** The controller's arguments as the upstream Deployment passes them (webhook flags left out: no webhook). */
export const CONTROLLER_ARGS = [
  '/nginx-ingress-controller',
  '--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller',
  '--election-id=ingress-nginx-leader',
  '--controller-class=k8s.io/ingress-nginx',
  '--ingress-class=nginx',
  '--configmap=$(POD_NAMESPACE)/ingress-nginx-controller',
];

const RBAC = 'rbac.authorization.k8s.io/v1';
const read = ['get', 'list', 'watch'];

/** The controller's ServiceAccount and RBAC (pure). */
export function ingressRbac(): Record<string, unknown>[] {
  const ns = INGRESS_NAMESPACE;
  const name = 'ingress-nginx';
  const subjects = [{ kind: 'ServiceAccount', name, namespace: ns }];
  const roleRef = (kind: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind, name });
  const gw = 'gateway.networking.k8s.io';
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns, labels: controllerLabels } },
    {
      apiVersion: RBAC,
      kind: 'ClusterRole',
      metadata: { name, labels: base },
      rules: [
        { apiGroups: [''], resources: ['secrets', 'namespaces'], verbs: ['list', 'watch'] },
        // Gateways' Services are the controller's own (created, corrected, deleted), as Cilium's operator does
        { apiGroups: [''], resources: ['services'], verbs: [...read, 'create', 'update', 'delete'] },
        { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'ingressclasses'], verbs: read },
        { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['update'] },
        {
          apiGroups: ['discovery.k8s.io'],
          resources: ['endpointslices'],
          verbs: [...read, 'create', 'update', 'delete'],
        },
        { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
        { apiGroups: [gw], resources: ['gatewayclasses', 'gateways', 'httproutes', 'referencegrants'], verbs: read },
        {
          apiGroups: [gw],
          resources: ['gatewayclasses/status', 'gateways/status', 'httproutes/status'],
          verbs: ['update'],
        },
      ],
    },
    {
      apiVersion: RBAC,
      kind: 'ClusterRoleBinding',
      metadata: { name, labels: base },
      roleRef: roleRef('ClusterRole'),
      subjects,
    },
    {
      apiVersion: RBAC,
      kind: 'Role',
      metadata: { name, namespace: ns, labels: controllerLabels },
      // its own pod and its fellow replicas (the leader is the oldest Ready one)
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: read }],
    },
    {
      apiVersion: RBAC,
      kind: 'RoleBinding',
      metadata: { name, namespace: ns, labels: controllerLabels },
      roleRef: roleRef('Role'),
      subjects,
    },
  ];
}

export function ingressAddon(opts: IngressAddonOptions = {}): Record<string, unknown>[] {
  const ns = INGRESS_NAMESPACE;
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: base } },
    ...ingressRbac(),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: INGRESS_CONTROLLER_NAME, namespace: ns, labels: controllerLabels },
      data: { 'allow-snippet-annotations': 'false' },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: INGRESS_CONTROLLER_NAME, namespace: ns, labels: controllerLabels },
      spec: {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        ipFamilyPolicy: 'SingleStack',
        ipFamilies: ['IPv4'],
        selector: controllerLabels,
        ports: [
          { name: 'http', port: 80, protocol: 'TCP', targetPort: 'http', appProtocol: 'http' },
          { name: 'https', port: 443, protocol: 'TCP', targetPort: 'https', appProtocol: 'https' },
        ],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: INGRESS_CONTROLLER_NAME, namespace: ns, labels: controllerLabels },
      spec: {
        replicas: opts.replicas ?? 1,
        minReadySeconds: 0,
        revisionHistoryLimit: 10,
        selector: { matchLabels: controllerLabels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels: controllerLabels },
          spec: {
            dnsPolicy: 'ClusterFirst',
            serviceAccountName: 'ingress-nginx',
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            terminationGracePeriodSeconds: 300,
            containers: [
              {
                name: 'controller',
                image: INGRESS_IMAGE,
                imagePullPolicy: 'IfNotPresent',
                args: CONTROLLER_ARGS,
                env: [
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                ],
                ports: [
                  { name: 'http', containerPort: 80, protocol: 'TCP' },
                  { name: 'https', containerPort: 443, protocol: 'TCP' },
                  { name: 'metrics', containerPort: 10254, protocol: 'TCP' },
                ],
                livenessProbe: {
                  httpGet: { path: '/healthz', port: 10254, scheme: 'HTTP' },
                  initialDelaySeconds: 10,
                  periodSeconds: 10,
                  timeoutSeconds: 1,
                  successThreshold: 1,
                  failureThreshold: 5,
                },
                readinessProbe: {
                  httpGet: { path: '/healthz', port: 10254, scheme: 'HTTP' },
                  initialDelaySeconds: 0,
                  periodSeconds: 1,
                  timeoutSeconds: 1,
                  successThreshold: 1,
                  failureThreshold: 3,
                },
                resources: { requests: { cpu: '100m', memory: '90Mi' } },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: {
        name: INGRESS_CLASS_NAME,
        labels: controllerLabels,
        annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' },
      },
      spec: { controller: 'k8s.io/ingress-nginx' },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: GATEWAY_CLASS_NAME, labels: controllerLabels },
      spec: {
        controllerName: 'io.cilium/gateway-controller',
        description: 'podwire ingress controller (ingress-nginx pods)',
      },
    },
  ];
}
