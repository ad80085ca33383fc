/**
 * The articles' manifests (examples/*.yaml) as `podwire example run` runs
 * them: for each, the namespace it goes into when it names none (its own,
 * `ex-…`, so nothing collides with the demo app in `default`), the
 * companion file of what it names but does not give
 * (examples/companions/), the TLS Secrets to make, and what it shows. Pure
 * data; the hints are in hints.ts.
 */
export interface TlsSecretSpec {
  name: string;
  namespace: string;
  hosts: string[];
}

export interface ExampleEntry {
  /** the file name without .yaml: examples/<name>.yaml */
  name: string;
  /** kinds in the article's manifest, in order (as examples/README.md lists them) */
  kinds: string[];
  /** what it shows, one line */
  shows: string;
  /** where a document that names no namespace goes (null: every document names its own) */
  namespace: string | null;
  /** where its objects are to look at (its own namespace, or the main one it names) */
  home: string;
  /** examples/companions/<file> */
  companion: string;
  /** Secrets made fresh per run (a private key is never committed) */
  tlsSecrets: TlsSecretSpec[];
}

const own = (name: string, namespace: string, kinds: string[], shows: string): ExampleEntry => ({
  name,
  kinds,
  shows,
  namespace,
  home: namespace,
  companion: `${name}.yaml`,
  tlsSecrets: [],
});

const production = (name: string, kinds: string[], shows: string): ExampleEntry => ({
  name,
  kinds,
  shows,
  namespace: null,
  home: 'production',
  companion: 'production.yaml',
  tlsSecrets: [],
});

export const EXAMPLES: readonly ExampleEntry[] = [
  {
    name: '000-gateway-httproute-canary',
    kinds: ['Gateway', 'HTTPRoute'],
    shows: 'Gateway in infra, HTTPRoute in app-team, a 90/10 canary to api-v2/api-v3',
    namespace: null,
    home: 'app-team',
    companion: '000-gateway-httproute-canary.yaml',
    tlsSecrets: [{ name: 'wildcard-cert', namespace: 'infra', hosts: ['*.example.com'] }],
  },
  {
    ...own(
      '000-ingress-tls-path-routing',
      'ex-000-ingress',
      ['Ingress'],
      'Ingress with TLS for app.example.com: /api → api-service, / → frontend-service',
    ),
    tlsSecrets: [{ name: 'app-tls-cert', namespace: 'ex-000-ingress', hosts: ['app.example.com'] }],
  },
  production(
    '000-networkpolicy-allow-web-to-api-and-dns-egress',
    ['NetworkPolicy', 'NetworkPolicy'],
    'production: app: web → app: api on 8080, and DNS egress for every pod',
  ),
  production(
    '000-networkpolicy-default-deny-all',
    ['NetworkPolicy'],
    'production: every pod cut off both ways (DNS too)',
  ),
  own('000-service-clusterip', 'ex-000-clusterip', ['Service'], 'ClusterIP Service backend: 80 → 8080 of app: backend'),
  own('000-service-headless', 'ex-000-headless', ['Service'], 'headless Service postgres: no virtual IP, pod names'),
  own(
    '000-service-loadbalancer',
    'ex-000-loadbalancer',
    ['Service'],
    'LoadBalancer Service web-public: an EXTERNAL-IP, 443 → 8443',
  ),
  own('000-service-nodeport', 'ex-000-nodeport', ['Service'], 'NodePort Service web: 30080 on every node → 8080'),
  {
    ...own(
      '003-ingress-path-routing-tls',
      'ex-003-ingress',
      ['Ingress'],
      'Ingress with rewrite-target /: / → frontend-service, /api → backend-service:8080',
    ),
    tlsSecrets: [{ name: 'tls-secret', namespace: 'ex-003-ingress', hosts: ['app.example.com'] }],
  },
  own(
    '003-multi-container-pod',
    'ex-003-multi-container',
    ['Pod'],
    'nginx and a busybox sidecar sharing one network namespace',
  ),
  own(
    '003-multi-tier-services',
    'ex-003-multi-tier',
    ['Service', 'Service', 'Service'],
    'frontend (LoadBalancer), backend (ClusterIP), database (headless)',
  ),
  own(
    '003-networkpolicy-allow-egress-external-api',
    'ex-003-egress-api',
    ['NetworkPolicy'],
    'app: backend may reach its namespace, kube-system and TCP 443 anywhere',
  ),
  production(
    '003-networkpolicy-allow-frontend-to-backend',
    ['NetworkPolicy'],
    'production: app: frontend → app: backend on TCP 8080 only',
  ),
  production('003-networkpolicy-default-deny', ['NetworkPolicy'], 'production: no connection reaches a pod'),
  own(
    '003-networkpolicy-strategy',
    'ex-003-strategy',
    ['NetworkPolicy', 'NetworkPolicy', 'NetworkPolicy'],
    'default deny, then tier allows (frontend → backend → database)',
  ),
  own('003-service-clusterip', 'ex-003-clusterip', ['Service'], 'ClusterIP Service backend-service: 80 → 8080'),
  own(
    '003-service-externalname',
    'ex-003-externalname',
    ['Service'],
    'ExternalName external-db → database.example.com (a CNAME)',
  ),
  own('003-service-headless', 'ex-003-headless', ['Service'], 'headless Service database: database-0.database'),
];

export class ExampleNotFoundError extends Error {
  readonly code = 'ERR_EXAMPLE_NOT_FOUND';
  constructor(
    message: string,
    readonly candidates: string[],
  ) {
    super(message);
    this.name = 'ExampleNotFoundError';
  }
}

/**
 * An example by its name or a unique prefix of it (`000-service-cl`);
 * `examples/…yaml` and a trailing `.yaml` are accepted too.
 */
export function findExample(query: string, examples: readonly ExampleEntry[] = EXAMPLES): ExampleEntry {
  const q = query
    .trim()
    .replace(/^(\.\/)?examples\//, '')
    .replace(/\.ya?ml$/, '');
  const exact = examples.find((e) => e.name === q);
  if (exact) return exact;
  const matches = examples.filter((e) => e.name.startsWith(q));
  if (matches.length === 1) return matches[0];
  if (matches.length > 1 && q)
    throw new ExampleNotFoundError(
      `"${query}" names more than one example: ${matches.map((e) => e.name).join(', ')}`,
      matches.map((e) => e.name),
    );
  // no prefix: the names that contain it, else all of them
  const near = q ? examples.filter((e) => e.name.includes(q)) : [];
  const list = (near.length ? near : examples).map((e) => e.name);
  throw new ExampleNotFoundError(
    `no example "${query}"${near.length ? `; did you mean: ${list.join(', ')}` : ` (podwire example list: ${list.join(', ')})`}`,
    list,
  );
}

/** The namespaces an example's objects go into, its own first. */
export function namespacesOf(e: ExampleEntry, manifestNamespaces: string[]): string[] {
  const out: string[] = e.namespace ? [e.namespace] : [];
  for (const n of [...manifestNamespaces, ...e.tlsSecrets.map((s) => s.namespace)]) if (!out.includes(n)) out.push(n);
  return out;
}
