import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { NETWORKING_SCHEMAS } from '../../../src/control/api/schemas/networking-index.js';
import { networkPolicy, ingress, ingressClass } from '../../../src/control/api/schemas/networking.js';
import { gateway, httpRoute, durationMs } from '../../../src/control/api/schemas/gateway.js';
import { endpointSlice } from '../../../src/control/api/schemas/discovery.js';

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../examples');
const docs = fs
  .readdirSync(examples)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) =>
    parseAllDocuments(fs.readFileSync(path.join(examples, f), 'utf8')).map((d) => ({ file: f, obj: d.toJS() as any })),
  );

type Issue = z.core.$ZodIssue;
const issuesOf = (schema: z.ZodType, obj: unknown): Issue[] => {
  const r = schema.safeParse(obj);
  return r.success ? [] : r.error.issues;
};
const show = (issues: Issue[]) => JSON.stringify(issues, null, 1);
const expectValid = (schema: z.ZodType, obj: unknown) => {
  const issues = issuesOf(schema, obj);
  expect(issues, show(issues)).toEqual([]);
};
/** The parse fails with an issue of this code at this path (and, for unknown fields, naming this key). */
const expectIssue = (schema: z.ZodType, obj: unknown, code: string, at: PropertyKey[], key?: string) => {
  const issues = issuesOf(schema, obj);
  const hit = issues.find(
    (i) =>
      i.code === code &&
      JSON.stringify(i.path) === JSON.stringify(at) &&
      (key === undefined || (i as { keys?: string[] }).keys?.includes(key)),
  );
  expect(
    hit,
    `expected ${code} at ${JSON.stringify(at)}${key ? ` for "${key}"` : ''}, got ${show(issues)}`,
  ).toBeDefined();
  return hit!;
};
const expectUnknown = (schema: z.ZodType, obj: unknown, at: PropertyKey[], key: string) =>
  expectIssue(schema, obj, 'unrecognized_keys', at, key);
/** A rule of Kubernetes' validation (a refinement) fails at this path with a message containing `text`. */
const expectRule = (schema: z.ZodType, obj: unknown, at: PropertyKey[], text: string) => {
  const hit = expectIssue(schema, obj, 'custom', at);
  const all = issuesOf(schema, obj).filter((i) => i.code === 'custom' && JSON.stringify(i.path) === JSON.stringify(at));
  expect(all.map((i) => i.message).join('\n')).toContain(text);
  return hit;
};
const clone = <T>(o: T): T => structuredClone(o);

// ------------------------------------------------------------------ rich valid objects

const richNetworkPolicy = () => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'api', namespace: 'prod', labels: { app: 'api' } },
  spec: {
    podSelector: {
      matchLabels: { app: 'api' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend'] }],
    },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [
      {
        from: [
          { podSelector: { matchLabels: { app: 'web' } } },
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
            podSelector: { matchLabels: { app: 'prometheus' } },
          },
          { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '10.2.3.0/24'] } },
        ],
        ports: [
          { protocol: 'TCP', port: 8080 },
          { protocol: 'TCP', port: 'metrics' },
          { protocol: 'UDP', port: 30000, endPort: 32767 },
        ],
      },
    ],
    egress: [
      {
        to: [{ ipBlock: { cidr: '2001:db8::/32', except: ['2001:db8:1::/48'] } }, { namespaceSelector: {} }],
        ports: [{ protocol: 'SCTP', port: 5000 }, { port: 53 }],
      },
      {},
    ],
  },
  status: { conditions: [] },
});

const richIngress = () => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'app', namespace: 'web', annotations: { 'nginx.ingress.kubernetes.io/ssl-redirect': 'true' } },
  spec: {
    ingressClassName: 'nginx',
    defaultBackend: { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static-assets' } },
    tls: [{ hosts: ['app.example.com', '*.example.com'], secretName: 'app-tls' }, { hosts: ['sni-only.example.com'] }],
    rules: [
      {
        host: 'app.example.com',
        http: {
          paths: [
            { path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 80 } } } },
            { path: '/login', pathType: 'Exact', backend: { service: { name: 'auth', port: { name: 'http' } } } },
            { pathType: 'ImplementationSpecific', backend: { service: { name: 'web', port: { number: 8080 } } } },
          ],
        },
      },
      {
        host: '*.example.com',
        http: {
          paths: [{ path: '/', pathType: 'Prefix', backend: { resource: { kind: 'Bucket', name: 'fallback' } } }],
        },
      },
      { host: 'default-only.example.com' },
    ],
  },
  status: {
    loadBalancer: {
      ingress: [
        { ip: '203.0.113.10', ports: [{ port: 443, protocol: 'TCP' }] },
        { hostname: 'lb.example.com', ports: [{ port: 80, protocol: 'TCP', error: 'example.com/PortUnavailable' }] },
      ],
    },
  },
});

const richIngressClass = () => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name: 'external-lb', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
  spec: {
    controller: 'example.com/ingress-controller',
    parameters: {
      apiGroup: 'k8s.example.com',
      kind: 'IngressParameters',
      name: 'external-lb',
      scope: 'Namespace',
      namespace: 'external-configuration',
    },
  },
});

const richGateway = () => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'main', namespace: 'infra' },
  spec: {
    gatewayClassName: 'podwire',
    listeners: [
      {
        name: 'http',
        port: 80,
        protocol: 'HTTP',
        allowedRoutes: {
          namespaces: { from: 'Selector', selector: { matchLabels: { shared: 'true' } } },
          kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }, { kind: 'GRPCRoute' }],
        },
      },
      {
        name: 'https',
        hostname: '*.example.com',
        port: 443,
        protocol: 'HTTPS',
        tls: {
          mode: 'Terminate',
          certificateRefs: [{ group: '', kind: 'Secret', name: 'wildcard-cert', namespace: 'certs' }],
          options: { 'example.com/min-tls-version': '1.2' },
        },
        allowedRoutes: { namespaces: { from: 'All' } },
      },
      {
        name: 'tls-passthrough',
        hostname: 'db.example.com',
        port: 8443,
        protocol: 'TLS',
        tls: { mode: 'Passthrough' },
      },
      { name: 'postgres', port: 5432, protocol: 'TCP', allowedRoutes: { kinds: [{ kind: 'TCPRoute' }] } },
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'quic', port: 4433, protocol: 'example.com/quic' },
    ],
    addresses: [
      { type: 'IPAddress', value: '192.0.2.10' },
      { type: 'Hostname', value: 'gw.example.com' },
      { value: '192.0.2.11' },
      { type: 'example.com/pool' },
    ],
    infrastructure: {
      labels: { team: 'net' },
      annotations: { 'example.com/lb': 'internal' },
      parametersRef: { group: 'example.com', kind: 'GatewayConfig', name: 'gw-config' },
    },
    allowedListeners: {
      namespaces: { from: 'Selector', selector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] } },
    },
    tls: {
      backend: { clientCertificateRef: { name: 'client-cert' } },
      frontend: {
        default: {
          validation: {
            caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'client-ca' }],
            mode: 'AllowValidOnly',
          },
        },
        perPort: [
          {
            port: 443,
            tls: {
              validation: {
                caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'partner-ca', namespace: 'certs' }],
                mode: 'AllowInsecureFallback',
              },
            },
          },
        ],
      },
    },
    defaultScope: 'All',
  },
  status: {
    addresses: [{ type: 'IPAddress', value: '192.0.2.10' }],
    conditions: [
      {
        type: 'Programmed',
        status: 'True',
        reason: 'Programmed',
        message: '',
        lastTransitionTime: '2025-01-01T00:00:00Z',
        observedGeneration: 1,
      },
    ],
    listeners: [{ name: 'http', attachedRoutes: 2, supportedKinds: [{ kind: 'HTTPRoute' }], conditions: [] }],
  },
});

const richHTTPRoute = () => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'api', namespace: 'app-team' },
  spec: {
    parentRefs: [
      {
        group: 'gateway.networking.k8s.io',
        kind: 'Gateway',
        namespace: 'infra',
        name: 'main',
        sectionName: 'https',
        port: 443,
      },
      { group: '', kind: 'Service', name: 'api' },
    ],
    hostnames: ['api.example.com', '*.example.org'],
    useDefaultGateways: 'None',
    rules: [
      {
        name: 'canary',
        matches: [
          {
            path: { type: 'PathPrefix', value: '/v2' },
            headers: [
              { type: 'Exact', name: 'x-canary', value: 'true' },
              { name: 'x-tenant', value: 'acme' },
            ],
            queryParams: [{ type: 'RegularExpression', name: 'ver', value: '^2' }],
            method: 'GET',
          },
        ],
        filters: [
          {
            type: 'RequestHeaderModifier',
            requestHeaderModifier: {
              set: [{ name: 'x-env', value: 'prod' }],
              add: [{ name: 'x-via', value: 'podwire' }],
              remove: ['x-debug'],
            },
          },
          { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-served-by', value: 'v2' }] } },
          {
            type: 'RequestMirror',
            requestMirror: { backendRef: { name: 'shadow', port: 8080 }, fraction: { numerator: 1, denominator: 10 } },
          },
          {
            type: 'RequestMirror',
            requestMirror: { backendRef: { name: 'audit', namespace: 'audit', port: 80 }, percent: 5 },
          },
          {
            type: 'URLRewrite',
            urlRewrite: { hostname: 'api.internal', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } },
          },
          {
            type: 'CORS',
            cors: {
              allowOrigins: ['https://app.example.com'],
              allowMethods: ['GET', 'POST'],
              allowHeaders: ['Authorization'],
              exposeHeaders: ['X-Request-Id'],
              allowCredentials: true,
              maxAge: 600,
            },
          },
          { type: 'ExtensionRef', extensionRef: { group: 'example.com', kind: 'RateLimit', name: 'strict' } },
        ],
        backendRefs: [
          {
            name: 'api-v2',
            port: 80,
            weight: 90,
            filters: [
              { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-backend', value: 'v2' }] } },
            ],
          },
          { group: '', kind: 'Service', name: 'api-v3', namespace: 'canary', port: 80, weight: 10 },
          { group: 'multicluster.x-k8s.io', kind: 'ServiceImport', name: 'api-remote', weight: 0 },
        ],
        timeouts: { request: '10s', backendRequest: '2s' },
        retry: { codes: [500, 502, 503], attempts: 2, backoff: '100ms' },
        sessionPersistence: {
          sessionName: 'sid',
          type: 'Cookie',
          absoluteTimeout: '1h',
          cookieConfig: { lifetimeType: 'Permanent' },
        },
      },
      {
        matches: [{ path: { type: 'Exact', value: '/old' } }],
        filters: [
          {
            type: 'RequestRedirect',
            requestRedirect: {
              scheme: 'https',
              hostname: 'new.example.com',
              path: { type: 'ReplaceFullPath', replaceFullPath: '/new' },
              port: 443,
              statusCode: 301,
            },
          },
        ],
      },
      {
        matches: [{ path: { type: 'RegularExpression', value: '^/img/.*\\.png$' } }, { method: 'HEAD' }],
        filters: [
          {
            type: 'ExternalAuth',
            externalAuth: {
              protocol: 'HTTP',
              backendRef: { name: 'auth', port: 9000 },
              http: { path: '/check', allowedHeaders: ['cookie'], allowedResponseHeaders: ['x-user'] },
              forwardBody: { maxSize: 1024 },
            },
          },
        ],
        backendRefs: [{ name: 'img', port: 80 }],
      },
      {},
    ],
  },
  status: {
    parents: [
      {
        parentRef: { name: 'main', namespace: 'infra' },
        controllerName: 'podwire.dev/gateway',
        conditions: [{ type: 'Accepted', status: 'True' }],
      },
    ],
  },
});

const richEndpointSlice = () => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: {
    name: 'web-abc12',
    namespace: 'default',
    generateName: 'web-',
    labels: {
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    },
    ownerReferences: [
      { apiVersion: 'v1', kind: 'Service', name: 'web', uid: '0b1c', controller: true, blockOwnerDeletion: true },
    ],
  },
  addressType: 'IPv4',
  endpoints: [
    {
      addresses: ['10.244.1.5'],
      conditions: { ready: true, serving: true, terminating: false },
      hostname: 'web-0',
      nodeName: 'node-1',
      zone: 'us-east-1a',
      targetRef: {
        kind: 'Pod',
        namespace: 'default',
        name: 'web-0',
        uid: '9f2e',
        resourceVersion: '123',
        apiVersion: 'v1',
        fieldPath: '',
      },
      hints: { forZones: [{ name: 'us-east-1a' }], forNodes: [{ name: 'node-1' }] },
      deprecatedTopology: { 'kubernetes.io/hostname': 'node-1' },
    },
    { addresses: ['10.244.2.7'], conditions: { ready: false, serving: true, terminating: true } },
  ],
  ports: [
    { name: 'http', protocol: 'TCP', port: 8080, appProtocol: 'http' },
    { name: 'dns', protocol: 'UDP', port: 53 },
  ],
});

const RICH: [string, z.ZodType, () => any][] = [
  ['NetworkPolicy', networkPolicy, richNetworkPolicy],
  ['Ingress', ingress, richIngress],
  ['IngressClass', ingressClass, richIngressClass],
  ['Gateway', gateway, richGateway],
  ['HTTPRoute', httpRoute, richHTTPRoute],
  ['EndpointSlice', endpointSlice, richEndpointSlice],
];

// ------------------------------------------------------------------ tests

describe('networking schemas: the seed articles', () => {
  const mine = docs.filter((d) =>
    ['NetworkPolicy', 'Ingress', 'IngressClass', 'Gateway', 'HTTPRoute', 'EndpointSlice'].includes(d.obj?.kind),
  );

  it('find every NetworkPolicy, Ingress, Gateway and HTTPRoute of examples/', () => {
    const count = (k: string) => mine.filter((d) => d.obj.kind === k).length;
    // 9 NetworkPolicies (000: 3, 003: 6), 2 Ingresses, the Gateway and HTTPRoute of 000; more may be added.
    expect(count('NetworkPolicy')).toBeGreaterThanOrEqual(9);
    expect(count('Ingress')).toBeGreaterThanOrEqual(2);
    expect(count('Gateway')).toBeGreaterThanOrEqual(1);
    expect(count('HTTPRoute')).toBeGreaterThanOrEqual(1);
  });

  // All of them are valid Kubernetes as printed; none needs an expected failure.
  it.each(mine.map((d) => [d.file, d.obj.kind, d.obj.metadata?.name, d.obj] as const))(
    'accept %s (%s %s) unchanged',
    (file, kind, _name, obj) => {
      const issues = issuesOf((NETWORKING_SCHEMAS as Record<string, z.ZodType>)[kind], obj);
      expect(issues, `${file}: ${show(issues)}`).toEqual([]);
    },
  );

  it('take an egress rule whose `to:` is empty (YAML null) as "any destination", like Kubernetes', () => {
    const d = docs.find((x) => x.file === '003-networkpolicy-allow-egress-external-api.yaml')!;
    expect(d.obj.spec.egress[2]).toEqual({ to: null, ports: [{ protocol: 'TCP', port: 443 }] });
    expect(networkPolicy.parse(d.obj).spec?.egress?.[2].to).toBeNull();
  });

  it('export every kind for SCHEMAS', () => {
    expect(Object.keys(NETWORKING_SCHEMAS).sort()).toEqual([
      'EndpointSlice',
      'Gateway',
      'GatewayClass',
      'HTTPRoute',
      'Ingress',
      'IngressClass',
      'NetworkPolicy',
      'ReferenceGrant',
    ]);
  });
});

describe('networking schemas: rich objects using most fields', () => {
  it.each(RICH)('accept a full %s', (_kind, schema, make) => expectValid(schema, make()));

  it('accept nulls and omissions where Kubernetes does', () => {
    expectValid(networkPolicy, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'all' },
    });
    expectValid(networkPolicy, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'all' },
      spec: { podSelector: null, ingress: [{ from: null, ports: null }] },
    });
    expectValid(endpointSlice, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-x' },
      addressType: 'IPv6',
      endpoints: null,
      ports: null,
    });
    expectValid(ingress, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'd' },
      spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } }, tls: null },
    });
    const route = richHTTPRoute();
    (route.spec as any).rules = null;
    (route.spec as any).hostnames = null;
    expectValid(httpRoute, route);
  });
});

describe('networking schemas: unknown fields are refused (strict decoding)', () => {
  const cases: [string, z.ZodType, () => any, (o: any) => void, PropertyKey[], string][] = [
    ['NetworkPolicy top level', networkPolicy, richNetworkPolicy, (o) => (o.specs = {}), [], 'specs'],
    ['NetworkPolicy spec', networkPolicy, richNetworkPolicy, (o) => (o.spec.podSelecter = {}), ['spec'], 'podSelecter'],
    [
      'NetworkPolicy ingress from[] peer',
      networkPolicy,
      richNetworkPolicy,
      (o) => (o.spec.ingress[0].from[1].ipblock = { cidr: '10.0.0.0/8' }),
      ['spec', 'ingress', 0, 'from', 1],
      'ipblock',
    ],
    [
      'NetworkPolicy egress to[] ipBlock',
      networkPolicy,
      richNetworkPolicy,
      (o) => (o.spec.egress[0].to[0].ipBlock.exclude = []),
      ['spec', 'egress', 0, 'to', 0, 'ipBlock'],
      'exclude',
    ],
    [
      'NetworkPolicy port',
      networkPolicy,
      richNetworkPolicy,
      (o) => (o.spec.ingress[0].ports[0].portRange = '1-2'),
      ['spec', 'ingress', 0, 'ports', 0],
      'portRange',
    ],
    ['Ingress top level', ingress, richIngress, (o) => (o.rules = []), [], 'rules'],
    ['Ingress spec', ingress, richIngress, (o) => (o.spec.backend = {}), ['spec'], 'backend'],
    [
      'Ingress service port',
      ingress,
      richIngress,
      (o) => (o.spec.rules[0].http.paths[0].backend.service.port.numbr = 80),
      ['spec', 'rules', 0, 'http', 'paths', 0, 'backend', 'service', 'port'],
      'numbr',
    ],
    [
      'Ingress status',
      ingress,
      richIngress,
      (o) => (o.status.loadBalancer.ingress[0].ipMode = 'VIP'),
      ['status', 'loadBalancer', 'ingress', 0],
      'ipMode',
    ],
    ['IngressClass top level', ingressClass, richIngressClass, (o) => (o.status = {}), [], 'status'],
    [
      'IngressClass spec',
      ingressClass,
      richIngressClass,
      (o) => (o.spec.controllerName = 'x'),
      ['spec'],
      'controllerName',
    ],
    [
      'IngressClass parameters',
      ingressClass,
      richIngressClass,
      (o) => (o.spec.parameters.group = 'x'),
      ['spec', 'parameters'],
      'group',
    ],
    ['Gateway top level', gateway, richGateway, (o) => (o.listeners = []), [], 'listeners'],
    ['Gateway spec', gateway, richGateway, (o) => (o.spec.gatewayClass = 'x'), ['spec'], 'gatewayClass'],
    [
      'Gateway certificateRef',
      gateway,
      richGateway,
      (o) => (o.spec.listeners[1].tls.certificateRefs[0].secretName = 'x'),
      ['spec', 'listeners', 1, 'tls', 'certificateRefs', 0],
      'secretName',
    ],
    [
      'Gateway allowedRoutes namespaces',
      gateway,
      richGateway,
      (o) => (o.spec.listeners[0].allowedRoutes.namespaces.labels = {}),
      ['spec', 'listeners', 0, 'allowedRoutes', 'namespaces'],
      'labels',
    ],
    ['HTTPRoute top level', httpRoute, richHTTPRoute, (o) => (o.rules = []), [], 'rules'],
    ['HTTPRoute spec', httpRoute, richHTTPRoute, (o) => (o.spec.parentRef = {}), ['spec'], 'parentRef'],
    [
      'HTTPRoute backendRef filter header',
      httpRoute,
      richHTTPRoute,
      (o) => (o.spec.rules[0].backendRefs[0].filters[0].requestHeaderModifier.set[0].val = 'x'),
      ['spec', 'rules', 0, 'backendRefs', 0, 'filters', 0, 'requestHeaderModifier', 'set', 0],
      'val',
    ],
    [
      'HTTPRoute path match',
      httpRoute,
      richHTTPRoute,
      (o) => (o.spec.rules[0].matches[0].path.prefix = '/'),
      ['spec', 'rules', 0, 'matches', 0, 'path'],
      'prefix',
    ],
    ['EndpointSlice top level', endpointSlice, richEndpointSlice, (o) => (o.spec = {}), [], 'spec'],
    [
      'EndpointSlice endpoint',
      endpointSlice,
      richEndpointSlice,
      (o) => (o.endpoints[0].address = '10.0.0.1'),
      ['endpoints', 0],
      'address',
    ],
    [
      'EndpointSlice conditions',
      endpointSlice,
      richEndpointSlice,
      (o) => (o.endpoints[0].conditions.healthy = true),
      ['endpoints', 0, 'conditions'],
      'healthy',
    ],
    [
      'EndpointSlice targetRef',
      endpointSlice,
      richEndpointSlice,
      (o) => (o.endpoints[0].targetRef.podName = 'x'),
      ['endpoints', 0, 'targetRef'],
      'podName',
    ],
  ];
  it.each(cases)('%s', (_what, schema, make, mutate, at, key) => {
    const o = make();
    mutate(o);
    expectUnknown(schema, o, at, key);
  });
});

describe('networking schemas: wrong types and enumerations are refused', () => {
  const cases: [string, z.ZodType, () => any, (o: any) => void, string, PropertyKey[]][] = [
    [
      'Ingress pathType Suffix',
      ingress,
      richIngress,
      (o) => (o.spec.rules[0].http.paths[0].pathType = 'Suffix'),
      'invalid_value',
      ['spec', 'rules', 0, 'http', 'paths', 0, 'pathType'],
    ],
    [
      'Ingress pathType missing',
      ingress,
      richIngress,
      (o) => delete o.spec.rules[0].http.paths[0].pathType,
      'invalid_value',
      ['spec', 'rules', 0, 'http', 'paths', 0, 'pathType'],
    ],
    [
      'Ingress port number as a string',
      ingress,
      richIngress,
      (o) => (o.spec.rules[0].http.paths[0].backend.service.port.number = '80'),
      'invalid_type',
      ['spec', 'rules', 0, 'http', 'paths', 0, 'backend', 'service', 'port', 'number'],
    ],
    [
      'Ingress status port protocol',
      ingress,
      richIngress,
      (o) => (o.status.loadBalancer.ingress[0].ports[0].protocol = 'HTTP'),
      'invalid_value',
      ['status', 'loadBalancer', 'ingress', 0, 'ports', 0, 'protocol'],
    ],
    [
      'NetworkPolicy policyTypes Both',
      networkPolicy,
      richNetworkPolicy,
      (o) => (o.spec.policyTypes = ['Both']),
      'invalid_value',
      ['spec', 'policyTypes', 0],
    ],
    [
      'NetworkPolicy port as boolean',
      networkPolicy,
      richNetworkPolicy,
      (o) => (o.spec.ingress[0].ports[0].port = true),
      'invalid_union',
      ['spec', 'ingress', 0, 'ports', 0, 'port'],
    ],
    [
      'NetworkPolicy port 80.5',
      networkPolicy,
      richNetworkPolicy,
      (o) => (o.spec.ingress[0].ports[0].port = 80.5),
      'invalid_union',
      ['spec', 'ingress', 0, 'ports', 0, 'port'],
    ],
    [
      'NetworkPolicy protocol HTTP',
      networkPolicy,
      richNetworkPolicy,
      (o) => (o.spec.ingress[0].ports[0].protocol = 'HTTP'),
      'invalid_value',
      ['spec', 'ingress', 0, 'ports', 0, 'protocol'],
    ],
    [
      'NetworkPolicy selector operator',
      networkPolicy,
      richNetworkPolicy,
      (o) => (o.spec.podSelector.matchExpressions[0].operator = 'Equals'),
      'invalid_value',
      ['spec', 'podSelector', 'matchExpressions', 0, 'operator'],
    ],
    [
      'NetworkPolicy from as an object',
      networkPolicy,
      richNetworkPolicy,
      (o) => (o.spec.ingress[0].from = { podSelector: {} }),
      'invalid_type',
      ['spec', 'ingress', 0, 'from'],
    ],
    [
      'IngressClass scope',
      ingressClass,
      richIngressClass,
      (o) => (o.spec.parameters.scope = 'Global'),
      'invalid_value',
      ['spec', 'parameters', 'scope'],
    ],
    ['IngressClass without spec', ingressClass, richIngressClass, (o) => delete o.spec, 'invalid_type', ['spec']],
    [
      'Gateway listener port as a string',
      gateway,
      richGateway,
      (o) => (o.spec.listeners[0].port = '80'),
      'invalid_type',
      ['spec', 'listeners', 0, 'port'],
    ],
    [
      'Gateway listener port 70000',
      gateway,
      richGateway,
      (o) => (o.spec.listeners[0].port = 70000),
      'too_big',
      ['spec', 'listeners', 0, 'port'],
    ],
    [
      'Gateway allowedRoutes from Everywhere',
      gateway,
      richGateway,
      (o) => (o.spec.listeners[0].allowedRoutes.namespaces.from = 'Everywhere'),
      'invalid_value',
      ['spec', 'listeners', 0, 'allowedRoutes', 'namespaces', 'from'],
    ],
    [
      'Gateway tls mode',
      gateway,
      richGateway,
      (o) => (o.spec.listeners[1].tls.mode = 'Reencrypt'),
      'invalid_value',
      ['spec', 'listeners', 1, 'tls', 'mode'],
    ],
    [
      'Gateway without gatewayClassName',
      gateway,
      richGateway,
      (o) => delete o.spec.gatewayClassName,
      'invalid_type',
      ['spec', 'gatewayClassName'],
    ],
    [
      'Gateway without listeners',
      gateway,
      richGateway,
      (o) => (o.spec.listeners = []),
      'too_small',
      ['spec', 'listeners'],
    ],
    [
      'Gateway listener name not a DNS subdomain',
      gateway,
      richGateway,
      (o) => (o.spec.listeners[0].name = 'HTTP_80'),
      'invalid_format',
      ['spec', 'listeners', 0, 'name'],
    ],
    [
      'Gateway listener hostname with a port',
      gateway,
      richGateway,
      (o) => (o.spec.listeners[1].hostname = 'example.com:443'),
      'invalid_format',
      ['spec', 'listeners', 1, 'hostname'],
    ],
    [
      'HTTPRoute path type Suffix',
      httpRoute,
      richHTTPRoute,
      (o) => (o.spec.rules[0].matches[0].path.type = 'Suffix'),
      'invalid_value',
      ['spec', 'rules', 0, 'matches', 0, 'path', 'type'],
    ],
    [
      'HTTPRoute method in lower case',
      httpRoute,
      richHTTPRoute,
      (o) => (o.spec.rules[0].matches[0].method = 'get'),
      'invalid_value',
      ['spec', 'rules', 0, 'matches', 0, 'method'],
    ],
    [
      'HTTPRoute header match type',
      httpRoute,
      richHTTPRoute,
      (o) => (o.spec.rules[0].matches[0].headers[0].type = 'Prefix'),
      'invalid_value',
      ['spec', 'rules', 0, 'matches', 0, 'headers', 0, 'type'],
    ],
    [
      'HTTPRoute filter type',
      httpRoute,
      richHTTPRoute,
      (o) => (o.spec.rules[0].filters[0].type = 'RateLimit'),
      'invalid_value',
      ['spec', 'rules', 0, 'filters', 0, 'type'],
    ],
    [
      'HTTPRoute redirect statusCode 404',
      httpRoute,
      richHTTPRoute,
      (o) => (o.spec.rules[1].filters[0].requestRedirect.statusCode = 404),
      'invalid_value',
      ['spec', 'rules', 1, 'filters', 0, 'requestRedirect', 'statusCode'],
    ],
    [
      'HTTPRoute weight below 0',
      httpRoute,
      richHTTPRoute,
      (o) => (o.spec.rules[0].backendRefs[0].weight = -1),
      'too_small',
      ['spec', 'rules', 0, 'backendRefs', 0, 'weight'],
    ],
    [
      'HTTPRoute port as a string',
      httpRoute,
      richHTTPRoute,
      (o) => (o.spec.rules[0].backendRefs[0].port = '80'),
      'invalid_type',
      ['spec', 'rules', 0, 'backendRefs', 0, 'port'],
    ],
    [
      'HTTPRoute parentRef without name',
      httpRoute,
      richHTTPRoute,
      (o) => delete o.spec.parentRefs[0].name,
      'invalid_type',
      ['spec', 'parentRefs', 0, 'name'],
    ],
    [
      'HTTPRoute timeout 10 seconds',
      httpRoute,
      richHTTPRoute,
      (o) => (o.spec.rules[0].timeouts.request = '10 seconds'),
      'invalid_format',
      ['spec', 'rules', 0, 'timeouts', 'request'],
    ],
    ['HTTPRoute empty rules', httpRoute, richHTTPRoute, (o) => (o.spec.rules = []), 'too_small', ['spec', 'rules']],
    ['HTTPRoute without spec', httpRoute, richHTTPRoute, (o) => delete o.spec, 'invalid_type', ['spec']],
    [
      'EndpointSlice addressType IPv5',
      endpointSlice,
      richEndpointSlice,
      (o) => (o.addressType = 'IPv5'),
      'invalid_value',
      ['addressType'],
    ],
    [
      'EndpointSlice without addressType',
      endpointSlice,
      richEndpointSlice,
      (o) => delete o.addressType,
      'invalid_value',
      ['addressType'],
    ],
    [
      'EndpointSlice endpoint without addresses',
      endpointSlice,
      richEndpointSlice,
      (o) => (o.endpoints[0].addresses = []),
      'too_small',
      ['endpoints', 0, 'addresses'],
    ],
    [
      'EndpointSlice ready as a string',
      endpointSlice,
      richEndpointSlice,
      (o) => (o.endpoints[0].conditions.ready = 'true'),
      'invalid_type',
      ['endpoints', 0, 'conditions', 'ready'],
    ],
    [
      'EndpointSlice port as a string',
      endpointSlice,
      richEndpointSlice,
      (o) => (o.ports[0].port = '8080'),
      'invalid_type',
      ['ports', 0, 'port'],
    ],
  ];
  it.each(cases)('%s', (_what, schema, make, mutate, code, at) => {
    const o = make();
    mutate(o);
    expectIssue(schema, o, code, at);
  });
});

describe('networking schemas: Kubernetes validation rules of networking.k8s.io', () => {
  const np = (spec: any) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'p' },
    spec,
  });
  const ing = (spec: any) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i' }, spec });
  const path0 = (backend: any, extra: any = {}) =>
    ing({ rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend, ...extra }] } }] });
  const backendAt = ['spec', 'rules', 0, 'http', 'paths', 0, 'backend'];

  it('NetworkPolicy peers: at least one selector, ipBlock alone', () => {
    expectRule(
      networkPolicy,
      np({ ingress: [{ from: [{}] }] }),
      ['spec', 'ingress', 0, 'from', 0],
      'Required value: must specify a peer',
    );
    expectRule(
      networkPolicy,
      np({ egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }),
      ['spec', 'egress', 0, 'to', 0],
      'may not specify both ipBlock and another peer',
    );
  });

  it('NetworkPolicy ports: numbers 1-65535, endPort only after a numeric port and not below it, IANA port names', () => {
    const port = (p: any) => np({ ingress: [{ ports: [p] }] });
    const at = ['spec', 'ingress', 0, 'ports', 0];
    expectRule(networkPolicy, port({ port: 0 }), [...at, 'port'], 'must be between 1 and 65535, inclusive');
    expectRule(
      networkPolicy,
      port({ port: 32000, endPort: 31000 }),
      [...at, 'endPort'],
      'must be greater than or equal to `port`',
    );
    expectRule(
      networkPolicy,
      port({ port: 'http', endPort: 90 }),
      [...at, 'endPort'],
      'may not be specified when `port` is non-numeric',
    );
    expectRule(
      networkPolicy,
      port({ endPort: 90 }),
      [...at, 'endPort'],
      'may not be specified when `port` is not specified',
    );
    expectRule(
      networkPolicy,
      port({ port: 'HTTP_Port' }),
      [...at, 'port'],
      'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    );
    expectRule(networkPolicy, port({ port: '8080' }), [...at, 'port'], 'must contain at least one letter (a-z)');
    expectValid(networkPolicy, port({ port: 'web-metrics' }));
  });

  it('NetworkPolicy ipBlock: a valid cidr, excepts strictly inside it, at most two policyTypes', () => {
    const block = (b: any) => np({ egress: [{ to: [{ ipBlock: b }] }] });
    const at = ['spec', 'egress', 0, 'to', 0, 'ipBlock'];
    expectRule(networkPolicy, block({ cidr: '10.0.0.0/33' }), [...at, 'cidr'], 'not a valid CIDR');
    expectRule(networkPolicy, block({ cidr: '' }), [...at, 'cidr'], 'Required value');
    expectRule(
      networkPolicy,
      block({ cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] }),
      [...at, 'except', 0],
      'must be a strict subset of `cidr`',
    );
    expectRule(
      networkPolicy,
      block({ cidr: '10.0.0.0/16', except: ['10.0.0.0/16'] }),
      [...at, 'except', 0],
      'must be a strict subset of `cidr`',
    );
    expectRule(
      networkPolicy,
      block({ cidr: '10.0.0.0/8', except: ['2001:db8::/64'] }),
      [...at, 'except', 0],
      'must be a strict subset of `cidr`',
    );
    expectIssue(networkPolicy, np({ policyTypes: ['Ingress', 'Egress', 'Ingress'] }), 'too_big', [
      'spec',
      'policyTypes',
    ]);
  });

  it('Ingress backends: service or resource, a port name or number, not both', () => {
    const svc = (port: any) => ({ service: { name: 'web', port } });
    expectRule(
      ingress,
      path0({ service: { name: 'web', port: { number: 80 } }, resource: { kind: 'Bucket', name: 'b' } }),
      backendAt,
      'cannot set both resource and service backends',
    );
    expectRule(ingress, path0({}), backendAt, 'resource or service backend is required');
    expectRule(ingress, path0(svc({ name: 'http', number: 80 })), backendAt, 'cannot set both port name & port number');
    expectRule(ingress, path0(svc({})), backendAt, 'port name or number is required');
    expectRule(ingress, path0({ service: { name: 'web' } }), backendAt, 'port name or number is required');
    expectRule(
      ingress,
      path0(svc({ number: 70000 })),
      [...backendAt, 'service', 'port', 'number'],
      'must be between 1 and 65535, inclusive',
    );
    expectRule(
      ingress,
      path0({ resource: { kind: '', name: 'b' } }),
      [...backendAt, 'resource', 'kind'],
      'kind is required',
    );
  });

  it('Ingress paths: absolute and clean for Exact and Prefix; rules or a defaultBackend', () => {
    const backend = { service: { name: 'web', port: { number: 80 } } };
    const p = (path: string | undefined, pathType: string) =>
      ing({ rules: [{ http: { paths: [{ path, pathType, backend }] } }] });
    const at = ['spec', 'rules', 0, 'http', 'paths', 0, 'path'];
    expectRule(ingress, p('api', 'Prefix'), at, 'must be an absolute path');
    expectRule(ingress, p(undefined, 'Exact'), at, 'must be an absolute path');
    expectRule(ingress, p('/a//b', 'Prefix'), at, "must not contain '//'");
    expectRule(ingress, p('/a/..', 'Exact'), at, "cannot end with '/..'");
    expectRule(ingress, p('api', 'ImplementationSpecific'), at, 'must be an absolute path');
    expectValid(ingress, p('/a//b', 'ImplementationSpecific'));
    expectRule(
      ingress,
      ing({ tls: [{ hosts: ['a.example.com'] }] }),
      ['spec'],
      'either `defaultBackend` or `rules` must be specified',
    );
    expectRule(
      ingress,
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i' } },
      ['spec'],
      'either `defaultBackend` or `rules` must be specified',
    );
    expectIssue(ingress, ing({ rules: [{ http: { paths: [] } }] }), 'too_small', ['spec', 'rules', 0, 'http', 'paths']);
  });

  it('IngressClass: a domain-prefixed controller; namespace with, and only with, scope Namespace', () => {
    const ic = richIngressClass();
    const spec = (s: any) => ({ ...ic, spec: s });
    expectIssue(ingressClass, spec({}), 'invalid_type', ['spec', 'controller']);
    expectRule(ingressClass, spec({ controller: '' }), ['spec', 'controller'], 'Required value');
    expectRule(
      ingressClass,
      spec({ controller: 'nginx' }),
      ['spec', 'controller'],
      'must be a domain-prefixed path (such as "acme.io/foo")',
    );
    expectIssue(ingressClass, spec({ controller: `example.com/${'x'.repeat(250)}` }), 'too_big', [
      'spec',
      'controller',
    ]);
    const params = (p: any) =>
      spec({ controller: 'k8s.io/ingress-nginx', parameters: { kind: 'ConfigMap', name: 'cfg', ...p } });
    expectValid(ingressClass, params({}));
    expectRule(
      ingressClass,
      params({ scope: 'Namespace' }),
      ['spec', 'parameters', 'namespace'],
      "`parameters.scope` is set to 'Namespace'",
    );
    expectRule(
      ingressClass,
      params({ namespace: 'x' }),
      ['spec', 'parameters', 'namespace'],
      "Forbidden: `parameters.scope` is set to 'Cluster'",
    );
  });
});

describe('networking schemas: the Gateway API CRD validation rules', () => {
  const gw = (listeners: any[], extra: any = {}) => ({
    ...richGateway(),
    spec: { gatewayClassName: 'c', listeners, ...extra },
  });
  const L = ['spec', 'listeners'];

  it('listeners: tls and hostname only where the protocol has them, unique names and port/protocol/hostname', () => {
    const cert = { certificateRefs: [{ name: 'c' }] };
    expectRule(
      gateway,
      gw([{ name: 'a', port: 80, protocol: 'HTTP', tls: cert }]),
      L,
      "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
    );
    expectRule(
      gateway,
      gw([{ name: 'a', port: 443, protocol: 'HTTPS', tls: { mode: 'Passthrough' } }]),
      L,
      'tls mode must be Terminate for protocol HTTPS',
    );
    expectRule(gateway, gw([{ name: 'a', port: 443, protocol: 'TLS' }]), L, 'tls mode must be set for protocol TLS');
    expectRule(
      gateway,
      gw([{ name: 'a', port: 5432, protocol: 'tcp', hostname: 'db.example.com' }]),
      L,
      "hostname must not be specified for protocols ['TCP', 'UDP']",
    );
    expectRule(
      gateway,
      gw([
        { name: 'a', port: 80, protocol: 'HTTP' },
        { name: 'a', port: 81, protocol: 'HTTP' },
      ]),
      L,
      'Listener name must be unique within the Gateway',
    );
    expectRule(
      gateway,
      gw([
        { name: 'a', port: 80, protocol: 'HTTP' },
        { name: 'b', port: 80, protocol: 'HTTP' },
      ]),
      L,
      'Combination of port, protocol and hostname must be unique for each listener',
    );
    expectValid(
      gateway,
      gw([
        { name: 'a', port: 80, protocol: 'HTTP', hostname: 'a.example.com' },
        { name: 'b', port: 80, protocol: 'HTTP' },
      ]),
    );
    expectRule(
      gateway,
      gw([{ name: 'a', port: 443, protocol: 'HTTPS', tls: {} }]),
      [...L, 0, 'tls'],
      'certificateRefs or options must be specified when mode is Terminate',
    );
    expectValid(
      gateway,
      gw([{ name: 'a', port: 443, protocol: 'HTTPS', tls: { options: { 'example.com/cert-from': 'vault' } } }]),
    );
  });

  it('addresses: unique values per type, hostnames that are hostnames; legacy experimental fields still taken', () => {
    const http = [{ name: 'a', port: 80, protocol: 'HTTP' }];
    expectRule(
      gateway,
      gw(http, { addresses: [{ value: '192.0.2.1' }, { type: 'IPAddress', value: '192.0.2.1' }] }),
      ['spec', 'addresses'],
      'IPAddress values must be unique',
    );
    expectRule(
      gateway,
      gw(http, { addresses: [{ type: 'Hostname', value: 'Not_A_Host' }] }),
      ['spec', 'addresses', 0],
      'Hostname value must be empty or contain only valid characters',
    );
    const legacy = gw(
      [
        {
          name: 'a',
          port: 443,
          protocol: 'HTTPS',
          tls: {
            certificateRefs: [{ name: 'c' }],
            frontendValidation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'ca' }] },
          },
        },
      ],
      {
        backendTLS: { clientCertificateRef: { name: 'client' } },
      },
    );
    expectValid(gateway, legacy);
  });

  const route = (rule: any, spec: any = {}) => ({
    ...richHTTPRoute(),
    spec: { parentRefs: [{ name: 'main' }], rules: [rule], ...spec },
  });
  const R = ['spec', 'rules', 0];

  it('backendRefs to a Service (the default kind) need a port', () => {
    expectRule(
      httpRoute,
      route({ backendRefs: [{ name: 'api' }] }),
      [...R, 'backendRefs', 0],
      'Must have port for Service reference',
    );
    expectRule(
      httpRoute,
      route({ backendRefs: [{ group: '', kind: 'Service', name: 'api' }] }),
      [...R, 'backendRefs', 0],
      'Must have port for Service reference',
    );
    expectRule(
      httpRoute,
      route({ filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow' } } }] }),
      [...R, 'filters', 0, 'requestMirror', 'backendRef'],
      'Must have port for Service reference',
    );
    expectValid(
      httpRoute,
      route({ backendRefs: [{ kind: 'ServiceImport', group: 'multicluster.x-k8s.io', name: 'api' }] }),
    );
  });

  it('filters: type and configuration agree; redirect excludes backendRefs and rewrite; most filters once', () => {
    const F = [...R, 'filters'];
    const hdr = { set: [{ name: 'a', value: 'b' }] };
    expectRule(
      httpRoute,
      route({ filters: [{ type: 'RequestHeaderModifier' }] }),
      [...F, 0],
      'filter.requestHeaderModifier must be specified for RequestHeaderModifier filter.type',
    );
    expectRule(
      httpRoute,
      route({ filters: [{ type: 'ResponseHeaderModifier', requestHeaderModifier: hdr }] }),
      [...F, 0],
      'filter.requestHeaderModifier must be nil if the filter.type is not RequestHeaderModifier',
    );
    const redirect = { type: 'RequestRedirect', requestRedirect: { scheme: 'https' } };
    expectRule(
      httpRoute,
      route({ filters: [redirect], backendRefs: [{ name: 'a', port: 80 }] }),
      R,
      'RequestRedirect filter must not be used together with backendRefs',
    );
    expectRule(
      httpRoute,
      route({ filters: [redirect, { type: 'URLRewrite', urlRewrite: { hostname: 'x.example.com' } }] }),
      F,
      'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both',
    );
    expectRule(
      httpRoute,
      route({
        filters: [
          { type: 'RequestHeaderModifier', requestHeaderModifier: hdr },
          { type: 'RequestHeaderModifier', requestHeaderModifier: hdr },
        ],
      }),
      F,
      'RequestHeaderModifier filter cannot be repeated',
    );
    expectValid(
      httpRoute,
      route({
        filters: [
          { type: 'ExtensionRef', extensionRef: { group: 'x.io', kind: 'K', name: 'a' } },
          { type: 'ExtensionRef', extensionRef: { group: 'x.io', kind: 'K', name: 'b' } },
        ],
      }),
    );
  });

  it('paths: absolute and clean for Exact/PathPrefix (also by default), modifiers agree with their type, ReplacePrefixMatch needs one PathPrefix match', () => {
    const M = [...R, 'matches', 0, 'path'];
    expectRule(
      httpRoute,
      route({ matches: [{ path: { value: 'v2' } }] }),
      M,
      "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']",
    );
    expectRule(
      httpRoute,
      route({ matches: [{ path: { type: 'Exact', value: '/a//b' } }] }),
      M,
      "must not contain '//'",
    );
    expectRule(
      httpRoute,
      route({ matches: [{ path: { type: 'Exact', value: '/a b' } }] }),
      M,
      'must only contain valid characters',
    );
    expectValid(httpRoute, route({ matches: [{ path: { type: 'RegularExpression', value: '.*//.*' } }] }));
    const rewrite = (path: any) => ({ type: 'URLRewrite', urlRewrite: { path } });
    expectRule(
      httpRoute,
      route({ filters: [rewrite({ type: 'ReplaceFullPath' })] }),
      [...R, 'filters', 0, 'urlRewrite', 'path'],
      "replaceFullPath must be specified when type is set to 'ReplaceFullPath'",
    );
    expectRule(
      httpRoute,
      route({ filters: [rewrite({ type: 'ReplaceFullPath', replacePrefixMatch: '/x' })] }),
      [...R, 'filters', 0, 'urlRewrite', 'path'],
      "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set",
    );
    const prefix = rewrite({ type: 'ReplacePrefixMatch', replacePrefixMatch: '/v1' });
    expectRule(
      httpRoute,
      route({ matches: [{ path: { type: 'Exact', value: '/v2' } }], filters: [prefix] }),
      R,
      'When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified',
    );
    expectRule(
      httpRoute,
      route({
        matches: [{ path: { value: '/a' } }, { path: { value: '/b' } }],
        backendRefs: [{ name: 'a', port: 80, filters: [prefix] }],
      }),
      R,
      'Within backendRefs, When using URLRewrite filter',
    );
    expectValid(httpRoute, route({ filters: [prefix] }));
  });

  it('numbers and lists: mirror fraction, percent or fraction, timeouts, unique rule names and header matches', () => {
    const mirror = (m: any) =>
      route({ filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 's', port: 80 }, ...m } }] });
    const MF = [...R, 'filters', 0, 'requestMirror'];
    expectRule(
      httpRoute,
      mirror({ fraction: { numerator: 150 } }),
      [...MF, 'fraction'],
      'numerator must be less than or equal to denominator',
    );
    expectRule(
      httpRoute,
      mirror({ percent: 10, fraction: { numerator: 1 } }),
      MF,
      'Only one of percent or fraction may be specified in HTTPRequestMirrorFilter',
    );
    expectIssue(httpRoute, mirror({ percent: 101 }), 'too_big', [...MF, 'percent']);
    expectRule(
      httpRoute,
      route({ timeouts: { request: '1s', backendRequest: '1500ms' } }),
      [...R, 'timeouts'],
      'backendRequest timeout cannot be longer than request timeout',
    );
    expectValid(httpRoute, route({ timeouts: { request: '0s', backendRequest: '1h' } }));
    expect(durationMs('1h30m5s250ms')).toBe(5_405_250);
    const twice = { ...richHTTPRoute(), spec: { rules: [{ name: 'a' }, { name: 'a' }] } };
    expectRule(httpRoute, twice, ['spec', 'rules'], 'Rule name must be unique within the route');
    const headers = route({
      matches: [
        {
          headers: [
            { name: 'x', value: '1' },
            { name: 'x', value: '2' },
          ],
        },
      ],
    });
    expectRule(httpRoute, headers, [...R, 'matches', 0, 'headers', 1], 'Duplicate value: {"name":"x"}');
    const many = {
      ...richHTTPRoute(),
      spec: { rules: Array.from({ length: 3 }, () => ({ matches: Array.from({ length: 50 }, () => ({})) })) },
    };
    expectRule(
      httpRoute,
      many,
      ['spec', 'rules'],
      'the total number of matches across all rules in a route must be less than 128',
    );
  });

  it('CORS and external auth: wildcards alone, protocol settings match the protocol', () => {
    const cors = (c: any) => route({ filters: [{ type: 'CORS', cors: c }] });
    expectRule(
      httpRoute,
      cors({ allowOrigins: ['*', 'https://a.example.com'] }),
      [...R, 'filters', 0, 'cors', 'allowOrigins'],
      "AllowOrigins cannot contain '*' alongside other origins",
    );
    expectValid(httpRoute, cors({ allowOrigins: ['*'], allowMethods: ['*'] }));
    const auth = (a: any) =>
      route({ filters: [{ type: 'ExternalAuth', externalAuth: { backendRef: { name: 'auth', port: 9000 }, ...a } }] });
    expectRule(
      httpRoute,
      auth({ protocol: 'GRPC' }),
      [...R, 'filters', 0, 'externalAuth'],
      "grpc must be specified when protocol is set to 'GRPC'",
    );
    expectRule(
      httpRoute,
      auth({ protocol: 'HTTP', http: {}, grpc: {} }),
      [...R, 'filters', 0, 'externalAuth'],
      "protocol must be 'GRPC' when grpc is set",
    );
    expectValid(httpRoute, auth({ protocol: 'GRPC', grpc: { allowedHeaders: ['authorization'] } }));
  });
});

describe('networking schemas: EndpointSlice validation', () => {
  it('unique port names (an unnamed port is named "") and size limits', () => {
    const s = richEndpointSlice();
    s.ports = [{ port: 80 } as any, { port: 81 } as any];
    expectRule(endpointSlice, s, ['ports', 1, 'name'], 'Duplicate value: ""');
    const big = richEndpointSlice();
    big.endpoints[0].addresses = Array.from({ length: 101 }, (_, i) => `10.0.0.${i}`);
    expectIssue(endpointSlice, big, 'too_big', ['endpoints', 0, 'addresses']);
  });

  it('a strict failure does not hide the other problems', () => {
    const o = clone(richEndpointSlice()) as any;
    o.extra = 1;
    o.addressType = 'IPv5';
    const codes = issuesOf(endpointSlice, o)
      .map((i) => i.code)
      .sort();
    expect(codes).toEqual(['invalid_value', 'unrecognized_keys']);
  });
});
