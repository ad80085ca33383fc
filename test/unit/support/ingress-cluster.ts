/**
 * Fixtures for the ingress routing model tests (test/unit/ingress-*.test.ts):
 * object builders as the API server would serve them, a request builder, and
 * three self-signed EC certificates (made once with `openssl req -x509
 * -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -subj /CN=<name> -addext
 * subjectAltName=DNS:<name> -days 36500`) — real PEM, because the model
 * parses certificates to check them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  compileRoutes,
  type ClusterObjects,
  type CompileOptions,
  type Obj,
  type RequestInfo,
  type RouteDecision,
} from '../../../src/ingress/index.js';

export const OPTS: CompileOptions = {
  ingressController: 'k8s.io/ingress-nginx',
  gatewayController: 'io.cilium/gateway-controller',
  httpPort: 80,
  httpsPort: 443,
  nowIso: '2025-01-01T00:00:00Z',
  defaultCertificate: { cert: 'DEFAULT-CERT', key: 'DEFAULT-KEY' },
};

const b64 = (s: string) => Buffer.from(s).toString('base64');
let clock = 0;
/** creationTimestamps one second apart, in the order objects are built (older first). */
const stamp = () => new Date(Date.UTC(2025, 0, 1, 0, 0, clock++)).toISOString().replace(/\.\d{3}Z$/, 'Z');

export const meta = (ns: string | undefined, name: string, extra: Obj = {}) => ({
  name,
  ...(ns ? { namespace: ns } : {}),
  creationTimestamp: stamp(),
  generation: 1,
  ...extra,
});

export function svc(
  ns: string,
  name: string,
  clusterIP: string,
  ports: { port: number; name?: string }[] = [{ port: 80 }],
  extra: Obj = {},
): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(ns, name),
    spec: { clusterIP, ports: ports.map((p) => ({ protocol: 'TCP', ...p })), ...extra },
  };
}

export function tlsSecret(ns: string, name: string, pair: { cert: string; key: string }): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(ns, name),
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64(pair.cert), 'tls.key': b64(pair.key) },
  };
}

export function ingressClass(name: string, controller = OPTS.ingressController, isDefault = false): Obj {
  const annotations = isDefault ? { 'ingressclass.kubernetes.io/is-default-class': 'true' } : undefined;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: meta(undefined, name, annotations ? { annotations } : {}),
    spec: { controller },
  };
}

/** An Ingress of class nginx unless spec says otherwise. */
export function ingress(ns: string, name: string, spec: Obj, annotations?: Record<string, string>): Obj {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta(ns, name, annotations ? { annotations } : {}),
    spec: { ingressClassName: 'nginx', ...spec },
  };
}

/** One rule: host (or '' for none) → paths. */
export function rule(host: string, ...paths: Obj[]): Obj {
  return { ...(host ? { host } : {}), http: { paths } };
}

export function p(path: string, pathType: string, service: string, port: number | string = 80): Obj {
  return {
    path,
    pathType,
    backend: { service: { name: service, port: typeof port === 'number' ? { number: port } : { name: port } } },
  };
}

export function gatewayClass(name: string, controllerName = OPTS.gatewayController): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: meta(undefined, name),
    spec: { controllerName },
  };
}

export function gateway(ns: string, name: string, listeners: Obj[], className = 'cilium'): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: meta(ns, name),
    spec: { gatewayClassName: className, listeners },
  };
}

export function httpRoute(ns: string, name: string, spec: Obj): Obj {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: meta(ns, name), spec };
}

export function referenceGrant(ns: string, name: string, from: Obj[], to: Obj[]): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: meta(ns, name),
    spec: { from, to },
  };
}

export function namespace(name: string, labels: Record<string, string> = {}): Obj {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: meta(undefined, name, { labels }) };
}

/** Sort objects into ClusterObjects by kind. */
export function cluster(...objs: Obj[]): ClusterObjects {
  const c: ClusterObjects = {
    ingresses: [],
    ingressClasses: [],
    gatewayClasses: [],
    gateways: [],
    httpRoutes: [],
    referenceGrants: [],
    services: [],
    secrets: [],
    namespaces: [],
  };
  const by: Record<string, keyof ClusterObjects> = {
    Ingress: 'ingresses',
    IngressClass: 'ingressClasses',
    GatewayClass: 'gatewayClasses',
    Gateway: 'gateways',
    HTTPRoute: 'httpRoutes',
    ReferenceGrant: 'referenceGrants',
    Service: 'services',
    Secret: 'secrets',
    Namespace: 'namespaces',
  };
  for (const o of objs) if (by[o.kind]) c[by[o.kind]].push(o);
  return c;
}

export const compile = (...objs: Obj[]) => compileRoutes(cluster(...objs), OPTS);

export function req(url: string, over: Partial<RequestInfo> = {}): RequestInfo {
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  return {
    port: u.port ? Number(u.port) : tls ? 443 : 80,
    tls,
    ...(tls ? { sni: u.hostname } : {}),
    host: u.hostname,
    method: 'GET',
    path: u.pathname,
    query: u.search.replace(/^\?/, ''),
    headers: {},
    clientIp: '172.28.0.100',
    ...over,
  };
}

/** A decision in one line: "proxy default/api:80", "redirect 308 https://…", "error 404 …". */
export function short(d: RouteDecision): string {
  if (d.kind === 'redirect') return `redirect ${d.status} ${d.location}`;
  if (d.kind === 'error') return `error ${d.status} ${d.reason}`;
  const bs = d.backends.map((b) => `${b.service}:${b.port}${d.backends.length > 1 ? `*${b.weight}` : ''}`).join(',');
  return `proxy ${bs}${d.rewritePath !== undefined ? ` ${d.rewritePath}` : ''}`;
}

/** The manifests of an examples/ file, parsed. */
export function example(file: string): Obj[] {
  const text = fs.readFileSync(path.join(import.meta.dirname, '../../../examples', file), 'utf8');
  return parseAllDocuments(text)
    .map((d) => d.toJSON())
    .filter(Boolean);
}

export const CERTS = {
  /** app.example.com */
  app: {
    cert: `-----BEGIN CERTIFICATE-----
MIIBqDCCAU2gAwIBAgIUYkkeHWb0KHqC0vrMDvgKVZZ07+swCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPYXBwLmV4YW1wbGUuY29tMCAXDTI2MTIwNzAwMTA1NloYDzIx
MjYxMTEzMDAxMDU2WjAaMRgwFgYDVQQDDA9hcHAuZXhhbXBsZS5jb20wWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAATcs3qBWcFyYDTvAm5+rvnn9xS/tfUv7PG9aqXv
fbqWnEQSifEYyS/ciOQZbgXUib7RKemavz3RFdjXsc8PxaAEo28wbTAdBgNVHQ4E
FgQUYQxbEML5Bz/yZ0tBJTePZo9SItowHwYDVR0jBBgwFoAUYQxbEML5Bz/yZ0tB
JTePZo9SItowDwYDVR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgg9hcHAuZXhhbXBs
ZS5jb20wCgYIKoZIzj0EAwIDSQAwRgIhAKrR9xv5bdFJSe2r9PeLCQg/na4uWvrz
v4dE5Xy+RfarAiEA1qQ7gL4n4wFHRU23WHNqk1JAXrHEZR6efdgyqi7qDww=
-----END CERTIFICATE-----
`,
    key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHNyLW2C5gWqu7vbi
kmUWINEcXQHBXUvpMz6KGlEHTEChRANCAATcs3qBWcFyYDTvAm5+rvnn9xS/tfUv
7PG9aqXvfbqWnEQSifEYyS/ciOQZbgXUib7RKemavz3RFdjXsc8PxaAE
-----END PRIVATE KEY-----
`,
  },
  /** *.example.com */
  wild: {
    cert: `-----BEGIN CERTIFICATE-----
MIIBoTCCAUegAwIBAgIUENVjGX6Bt+gfVR9AQfikp0dgfxowCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNKi5leGFtcGxlLmNvbTAgFw0yNjEyMDcwMDEwNTZaGA8yMTI2
MTExMzAwMTA1NlowGDEWMBQGA1UEAwwNKi5leGFtcGxlLmNvbTBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABN+Ad8trvigz6S1AVoewP2jQVyHvQhZZFbIjZJqX8J4u
3eeqoWfFIUScR4WhqkC+kEWmtqkmdY3tAw8GSTejCZijbTBrMB0GA1UdDgQWBBSP
KBUehr6nh6nqta34LxzgCLg48TAfBgNVHSMEGDAWgBSPKBUehr6nh6nqta34Lxzg
CLg48TAPBgNVHRMBAf8EBTADAQH/MBgGA1UdEQQRMA+CDSouZXhhbXBsZS5jb20w
CgYIKoZIzj0EAwIDSAAwRQIgfu01DYueIvc3G3hCAImawkFjPWFlHvPTNW+yi0MF
kmoCIQCm7BHfgCGj2XKUPOLImaDWtXDMT6cSBOKWTLRo+eqRWQ==
-----END CERTIFICATE-----
`,
    key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgCI/wGfxeATE+v8aT
2eQLoblEqaJFHrlCDhDd35RqLIuhRANCAATfgHfLa74oM+ktQFaHsD9o0Fch70IW
WRWyI2Sal/CeLt3nqqFnxSFEnEeFoapAvpBFprapJnWN7QMPBkk3owmY
-----END PRIVATE KEY-----
`,
  },
  /** other.test */
  other: {
    cert: `-----BEGIN CERTIFICATE-----
MIIBmDCCAT6gAwIBAgIUHRkULCF1NGWraQZr6vPXCCnReJMwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKb3RoZXIudGVzdDAgFw0yNjEyMDcwMDEwNTdaGA8yMTI2MTEx
MzAwMTA1N1owFTETMBEGA1UEAwwKb3RoZXIudGVzdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABKsTerG/jrH+68O/gJ8fG6KytET0ER8vrg1CxuXGyVlwaQUVJN8i
p2KmLphH6muzpRsTum1lmNOFY7lqJG9n8JqjajBoMB0GA1UdDgQWBBROHTnFWJuw
4fI8IrjYjI//pBNVUTAfBgNVHSMEGDAWgBROHTnFWJuw4fI8IrjYjI//pBNVUTAP
BgNVHRMBAf8EBTADAQH/MBUGA1UdEQQOMAyCCm90aGVyLnRlc3QwCgYIKoZIzj0E
AwIDSAAwRQIhAOkllOtHZ5JKuUXHZdVIEOHHlPgA2vW2a7937Ni0TxJlAiBbThoY
3O6fOTMFOzegEmweIR7ocIsl1gDXJspevebGMw==
-----END CERTIFICATE-----
`,
    key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgIP3qBdE6YeiPrFxT
aE3abxBlpKAI3RE2pqhCsApMxIChRANCAASrE3qxv46x/uvDv4CfHxuisrRE9BEf
L64NQsblxslZcGkFFSTfIqdipi6YR+prs6UbE7ptZZjThWO5aiRvZ/Ca
-----END PRIVATE KEY-----
`,
  },
};
