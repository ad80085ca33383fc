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
 * Left out of the upstream manifest: RBAC and ServiceAccounts (podwire has
 * no authorization), the admission webhook and its Jobs, the image's
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

export function ingressAddon(opts: IngressAddonOptions = {}): Record<string, unknown>[] {
  const ns = INGRESS_NAMESPACE;
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: base } },
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
