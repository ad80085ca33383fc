import { describe, it, expect } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ingressAddon, defaultReplicas, INGRESS_IMAGE } from '../../../src/ingress/addon.js';
import { ingressAddonYaml } from '../../../src/lab/cluster-ingress.js';
import { validateObject } from '../../../src/control/api/validate.js';
import { resourceForKind } from '../../../src/control/api/resources.js';
import { tlsSecretObject, parseHosts } from '../../../src/cli/ingress-tls-secret.js';
import { selfSignedArgv } from '../../../src/ingress/controller/fake-cert.js';

// The add-on's manifests: what the articles' commands select, what the
// lab's cloud LB and the kubelet act on, and valid for the API server.
type Obj = Record<string, any>;
const byKind = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);
const labels = {
  'app.kubernetes.io/name': 'ingress-nginx',
  'app.kubernetes.io/instance': 'ingress-nginx',
  'app.kubernetes.io/component': 'controller',
};

describe('ingressAddon', () => {
  const objs = ingressAddon({ replicas: 2 }) as Obj[];

  it('namespace ingress-nginx, its ServiceAccount and RBAC, then ConfigMap, Service, Deployment, IngressClass nginx, GatewayClass cilium', () => {
    expect(
      objs.map((o) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`),
    ).toEqual([
      'Namespace/ingress-nginx',
      'ServiceAccount/ingress-nginx/ingress-nginx',
      'ClusterRole/ingress-nginx',
      'ClusterRoleBinding/ingress-nginx',
      'Role/ingress-nginx/ingress-nginx',
      'RoleBinding/ingress-nginx/ingress-nginx',
      'ConfigMap/ingress-nginx/ingress-nginx-controller',
      'Service/ingress-nginx/ingress-nginx-controller',
      'Deployment/ingress-nginx/ingress-nginx-controller',
      'IngressClass/nginx',
      'GatewayClass/cilium',
    ]);
  });

  it('the Deployment’s pods carry the labels `kubectl logs -l app.kubernetes.io/name=ingress-nginx` selects, and a readiness probe on :10254/healthz', () => {
    const [d] = byKind(objs, 'Deployment');
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.template.spec.serviceAccountName).toBe('ingress-nginx');
    expect(d.spec.selector.matchLabels).toEqual(labels);
    expect(d.spec.template.metadata.labels).toEqual(labels);
    const c = d.spec.template.spec.containers[0];
    expect(c.image).toBe(INGRESS_IMAGE);
    expect(c.args[0]).toBe('/nginx-ingress-controller');
    expect(c.args).toContain('--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller');
    expect(c.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 10254, scheme: 'HTTP' });
    expect(c.ports.map((p: Obj) => [p.name, p.containerPort])).toEqual([
      ['http', 80],
      ['https', 443],
      ['metrics', 10254],
    ]);
    expect(c.env.map((e: Obj) => e.valueFrom?.fieldRef?.fieldPath)).toEqual(['metadata.name', 'metadata.namespace']);
  });

  it('a LoadBalancer Service http 80 / https 443 to the named container ports, client IPs kept (Local)', () => {
    const [s] = byKind(objs, 'Service');
    expect(s.spec.type).toBe('LoadBalancer');
    expect(s.spec.externalTrafficPolicy).toBe('Local');
    expect(s.spec.selector).toEqual(labels);
    expect(s.spec.ports.map((p: Obj) => [p.name, p.port, p.targetPort])).toEqual([
      ['http', 80, 'http'],
      ['https', 443, 'https'],
    ]);
  });

  it('IngressClass nginx is the default class, for k8s.io/ingress-nginx; GatewayClass cilium for io.cilium/gateway-controller', () => {
    const [ic] = byKind(objs, 'IngressClass');
    expect(ic.metadata.annotations).toEqual({ 'ingressclass.kubernetes.io/is-default-class': 'true' });
    expect(ic.spec).toEqual({ controller: 'k8s.io/ingress-nginx' });
    expect(byKind(objs, 'GatewayClass')[0].spec.controllerName).toBe('io.cilium/gateway-controller');
  });

  it('every object is valid for the API server', () => {
    for (const o of objs) {
      const r = resourceForKind(o.apiVersion, o.kind)!;
      expect(r, o.kind).toBeDefined();
      expect(() => validateObject(r, o), o.kind).not.toThrow();
    }
  });

  it('replicas: 2 in a 3-node lab (and more), 1 in smaller; the YAML stream parses back to the same objects', () => {
    expect([1, 2, 3, 5].map(defaultReplicas)).toEqual([1, 1, 2, 2]);
    expect(byKind(ingressAddon() as Obj[], 'Deployment')[0].spec.replicas).toBe(1);
    const docs = parseAllDocuments(ingressAddonYaml({ replicas: 2 })).map((d) => d.toJS());
    expect(docs).toEqual(objs);
  });
});

describe('tls-secret', () => {
  it('a kubernetes.io/tls Secret with tls.crt and tls.key, base64', () => {
    const s = tlsSecretObject('app-tls-cert', 'default', {
      cert: '-----BEGIN CERTIFICATE-----\n',
      key: '-----BEGIN PRIVATE KEY-----\n',
    }) as Obj;
    expect(s).toMatchObject({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: 'app-tls-cert', namespace: 'default' },
    });
    expect(Buffer.from(s.data['tls.crt'], 'base64').toString()).toBe('-----BEGIN CERTIFICATE-----\n');
    expect(() => validateObject(resourceForKind('v1', 'Secret')!, s)).not.toThrow();
  });
  it('hosts: DNS names and wildcards, lower-cased; the certificate names them all (CN the first)', () => {
    expect(parseHosts('App.example.com, *.example.com')).toEqual(['app.example.com', '*.example.com']);
    expect(() => parseHosts('bad_host')).toThrow('--host: "bad_host" is not a DNS name');
    expect(() => parseHosts(' , ')).toThrow('--host: name at least one host');
    const argv = selfSignedArgv('/t/c', '/t/k', '*.example.com', ['*.example.com', 'example.com'], 30);
    expect(argv).toContain('/O=Acme Co/CN=*.example.com');
    expect(argv).toContain('subjectAltName=DNS:*.example.com,DNS:example.com');
    expect(argv.slice(0, 3)).toEqual(['req', '-x509', '-new']);
  });
});
