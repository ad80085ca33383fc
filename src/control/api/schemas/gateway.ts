import { z } from 'zod';
import { typeMeta, labelSelector } from './meta.js';

/**
 * Gateway API (gateway.networking.k8s.io/v1): Gateway and HTTPRoute, as in
 * kubernetes-sigs/gateway-api apis/v1 (gateway_types.go, httproute_types.go,
 * shared_types.go, object_reference_types.go).
 *
 * These kinds are CRDs, so the CRD's OpenAPI schema *is* their validation:
 * string patterns and lengths, enums, list sizes, list-map/set uniqueness and
 * the x-kubernetes-validations (CEL) rules are all applied by a real API
 * server, and are applied here with the same messages (the CEL rules are
 * evaluated, as Kubernetes does, after the CRD's defaults: a path match
 * without type is a PathPrefix, a backendRef without kind a Service...).
 *
 * Fields of the experimental channel are accepted too (a cluster with the
 * experimental CRDs takes them), including ones later moved or renamed:
 * Gateway spec.backendTLS and listener tls.frontendValidation (v1.1-v1.3),
 * which v1.4 replaced by spec.tls. Not checked: the parentRefs
 * sectionName/port distinctness rules (they differ between channels) and
 * infrastructure label/annotation key syntax.
 *
 * A JSON null in an optional field is dropped by the API server before
 * validation (fields are not nullable), so optional fields accept null.
 * status is written by controllers and accepted as loosely-typed data.
 */
export const opt = <T extends z.ZodType>(s: T) => s.nullish();
export const loose = z.record(z.string(), z.unknown());

type Ctx = z.core.$RefinementCtx;
const kindOf = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);
/** A failed x-kubernetes-validations rule, worded as the API server words it. */
const cel = (ctx: Ctx, value: unknown, ok: boolean, message: string, path: PropertyKey[] = []) => {
  if (!ok)
    ctx.addIssue({ code: 'custom', path, input: value, message: `Invalid value: "${kindOf(value)}": ${message}` });
};
/** exists_one */
const one = <T>(xs: T[], p: (x: T) => boolean) => xs.filter(p).length === 1;
/** x-kubernetes-list-type map (by key) or set: no two items alike. */
const unique =
  <T>(key: (x: T) => unknown) =>
  (xs: T[], ctx: Ctx) => {
    const seen = new Set<string>();
    xs.forEach((x, i) => {
      const k = JSON.stringify(key(x));
      if (seen.has(k)) ctx.addIssue({ code: 'custom', path: [i], input: x, message: `Duplicate value: ${k}` });
      seen.add(k);
    });
  };
const byName = (x: { name: string }) => ({ name: x.name });
const maxProperties = (n: number) => (o: Record<string, string>) => Object.keys(o).length <= n;

// ---------------------------------------------------------------- shared string types

const SUBDOMAIN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const HOSTNAME = new RegExp(`^(\\*\\.)?${SUBDOMAIN}$`);
const hostname = z.string().min(1).max(253).regex(HOSTNAME);
const preciseHostname = z
  .string()
  .min(1)
  .max(253)
  .regex(new RegExp(`^${SUBDOMAIN}$`));
export const group = z
  .string()
  .max(253)
  .regex(new RegExp(`^$|^${SUBDOMAIN}$`));
export const kind = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/);
export const objectName = z.string().min(1).max(253);
export const namespace = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
const sectionName = z
  .string()
  .min(1)
  .max(253)
  .regex(new RegExp(`^${SUBDOMAIN}$`));
const portNumber = z.number().int().min(1).max(65535);
const i32 = z.number().int();
const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const duration = z.string().regex(DURATION);
const headerName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/);
// As in the CRD, where an OpenAPI pattern matches anywhere unless anchored.
const protocolType = z
  .string()
  .min(1)
  .max(255)
  .regex(new RegExp(`^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|${SUBDOMAIN}\\/[A-Za-z0-9]+$`));
const addressType = z
  .string()
  .min(1)
  .max(253)
  .regex(new RegExp(`^Hostname|IPAddress|NamedAddress|${SUBDOMAIN}\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$`));
const annotations = (n: number) =>
  z.record(z.string(), z.string().max(4096)).refine(maxProperties(n), `must have at most ${n} properties`);

/** Gateway API duration (GEP-2257) in milliseconds. */
export function durationMs(d: string): number {
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let ms = 0;
  for (const [, n, u] of d.matchAll(/(\d+)(ms|h|m|s)/g)) ms += Number(n) * unit[u];
  return ms;
}

// ---------------------------------------------------------------- references

/** ParentReference: group defaults to gateway.networking.k8s.io, kind to Gateway. */
const parentReference = z.strictObject({
  group: opt(group),
  kind: opt(kind),
  namespace: opt(namespace),
  name: objectName,
  sectionName: opt(sectionName),
  port: opt(portNumber),
});

/** SecretObjectReference: group defaults to "" (core), kind to Secret. */
const secretObjectReference = z.strictObject({
  group: opt(group),
  kind: opt(kind),
  name: objectName,
  namespace: opt(namespace),
});

/** ObjectReference: all but namespace required (group may be "" for core). */
const objectReference = z.strictObject({
  group,
  kind,
  name: objectName,
  namespace: opt(namespace),
});

const localObjectReference = z.strictObject({
  group: opt(group),
  kind,
  name: objectName,
});

const backendObjectReferenceShape = {
  group: opt(group),
  kind: opt(kind),
  name: objectName,
  namespace: opt(namespace),
  port: opt(portNumber),
};

/** A backend that is a Service (group "" and kind Service, the defaults) needs its port. */
const servicePort = (b: { group?: string | null; kind?: string | null; port?: number | null }, ctx: Ctx) =>
  cel(
    ctx,
    b,
    !((b.group ?? '') === '' && (b.kind ?? 'Service') === 'Service' && b.port == null),
    'Must have port for Service reference',
  );

/** BackendObjectReference */
const backendObjectReference = z.strictObject(backendObjectReferenceShape).superRefine(servicePort);

// ---------------------------------------------------------------- Gateway

/** FrontendTLSValidation (spec.tls.frontend; v1.1-v1.3 experimental also in listener tls.frontendValidation) */
const frontendTLSValidation = z.strictObject({
  caCertificateRefs: z.array(objectReference).min(1).max(8),
  mode: opt(z.enum(['AllowValidOnly', 'AllowInsecureFallback'])),
});

const listenerTLSConfig = z
  .strictObject({
    mode: opt(z.enum(['Terminate', 'Passthrough'])),
    certificateRefs: opt(z.array(secretObjectReference).max(64)),
    frontendValidation: opt(frontendTLSValidation.partial({ caCertificateRefs: true })),
    options: opt(annotations(16)),
  })
  .superRefine((t, ctx) =>
    cel(
      ctx,
      t,
      (t.mode ?? 'Terminate') !== 'Terminate' ||
        (t.certificateRefs?.length ?? 0) > 0 ||
        Object.keys(t.options ?? {}).length > 0,
      'certificateRefs or options must be specified when mode is Terminate',
    ),
  );

const routeGroupKind = z.strictObject({
  group: opt(group),
  kind,
});

const allowedRoutes = z.strictObject({
  namespaces: opt(
    z.strictObject({
      from: opt(z.enum(['All', 'Selector', 'Same'])),
      selector: opt(labelSelector),
    }),
  ),
  kinds: opt(z.array(routeGroupKind).max(8)),
});

const listener = z.strictObject({
  name: sectionName,
  hostname: opt(hostname),
  port: portNumber,
  protocol: protocolType,
  tls: opt(listenerTLSConfig),
  allowedRoutes: opt(allowedRoutes),
});
type Listener = z.output<typeof listener>;

const listeners = z
  .array(listener)
  .min(1)
  .max(64)
  .superRefine((ls: Listener[], ctx) => {
    const is = (l: Listener, re: RegExp) => re.test(l.protocol);
    cel(
      ctx,
      ls,
      ls.every((l) => !is(l, /^(HTTP|TCP|UDP)$/i) || l.tls == null),
      "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
    );
    cel(
      ctx,
      ls,
      ls.every((l) => !(is(l, /^HTTPS$/i) && l.tls != null) || (l.tls.mode ?? 'Terminate') === 'Terminate'),
      'tls mode must be Terminate for protocol HTTPS',
    );
    cel(
      ctx,
      ls,
      ls.every((l) => !is(l, /^TLS$/i) || l.tls != null),
      'tls mode must be set for protocol TLS',
    );
    cel(
      ctx,
      ls,
      ls.every((l) => !is(l, /^(TCP|UDP)$/i) || !l.hostname),
      "hostname must not be specified for protocols ['TCP', 'UDP']",
    );
    cel(
      ctx,
      ls,
      ls.every((l1) => one(ls, (l2) => l1.name === l2.name)),
      'Listener name must be unique within the Gateway',
    );
    cel(
      ctx,
      ls,
      ls.every((l1) =>
        one(
          ls,
          (l2) => l1.port === l2.port && l1.protocol === l2.protocol && (l1.hostname ?? null) === (l2.hostname ?? null),
        ),
      ),
      'Combination of port, protocol and hostname must be unique for each listener',
    );
  });

/** GatewaySpecAddress: type defaults to IPAddress; value may be left for the implementation to assign. */
const gatewaySpecAddress = z
  .strictObject({
    type: opt(addressType),
    value: opt(z.string().max(253)),
  })
  .superRefine((a, ctx) =>
    cel(
      ctx,
      a,
      a.type !== 'Hostname' || a.value == null || HOSTNAME.test(a.value),
      'Hostname value must be empty or contain only valid characters (matching ^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)',
    ),
  );
type Address = z.output<typeof gatewaySpecAddress>;

const addresses = z
  .array(gatewaySpecAddress)
  .max(16)
  .superRefine((as: Address[], ctx) => {
    const type = (a: Address) => a.type ?? 'IPAddress';
    for (const t of ['IPAddress', 'Hostname']) {
      const ok = as.every(
        (a1) => !(type(a1) === t && a1.value != null) || one(as, (a2) => type(a2) === t && a2.value === a1.value),
      );
      cel(ctx, as, ok, `${t} values must be unique`);
    }
  });

const gatewayInfrastructure = z.strictObject({
  labels: opt(z.record(z.string(), z.string().max(63)).refine(maxProperties(8), 'must have at most 8 properties')),
  annotations: opt(annotations(16)),
  parametersRef: opt(z.strictObject({ group, kind, name: objectName })),
});

const gatewayBackendTLS = z.strictObject({
  clientCertificateRef: opt(secretObjectReference),
});

const tlsConfig = z.strictObject({
  validation: opt(frontendTLSValidation),
});

const gatewayTLSConfig = z.strictObject({
  backend: opt(gatewayBackendTLS),
  frontend: opt(
    z.strictObject({
      default: tlsConfig,
      perPort: opt(
        z
          .array(z.strictObject({ port: portNumber, tls: tlsConfig }))
          .max(64)
          .superRefine((ps, ctx) =>
            cel(
              ctx,
              ps,
              ps.every((t1) => one(ps, (t2) => t1.port === t2.port)),
              'Port for TLS configuration must be unique within the Gateway',
            ),
          ),
      ),
    }),
  ),
});

const gatewaySpec = z.strictObject({
  gatewayClassName: objectName,
  listeners,
  addresses: opt(addresses),
  infrastructure: opt(gatewayInfrastructure),
  allowedListeners: opt(
    z.strictObject({
      namespaces: opt(
        z.strictObject({
          from: opt(z.enum(['All', 'Selector', 'Same', 'None'])),
          selector: opt(labelSelector),
        }),
      ),
    }),
  ),
  tls: opt(gatewayTLSConfig),
  // v1.3 experimental; v1.4 moved it to tls.backend.
  backendTLS: opt(gatewayBackendTLS),
  defaultScope: opt(z.enum(['All', 'None'])),
});

export const gateway = z.strictObject({
  ...typeMeta,
  spec: gatewaySpec,
  status: opt(loose),
});

// ---------------------------------------------------------------- HTTPRoute: matches

const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/;

/** HTTPPathMatch: type defaults to PathPrefix and value to "/". */
const httpPathMatch = z
  .strictObject({
    type: opt(z.enum(['Exact', 'PathPrefix', 'RegularExpression'])),
    value: opt(z.string().max(1024)),
  })
  .superRefine((p, ctx) => {
    const type = p.type ?? 'PathPrefix';
    if (type === 'RegularExpression') return;
    const v = p.value ?? '/';
    const rule = (ok: boolean, message: string) => cel(ctx, p, ok, message);
    const types = "when type one of ['Exact', 'PathPrefix']";
    rule(v.startsWith('/'), `value must be an absolute path and start with '/' ${types}`);
    for (const s of ['//', '/./', '/../', '%2f', '%2F', '#']) rule(!v.includes(s), `must not contain '${s}' ${types}`);
    for (const s of ['/..', '/.']) rule(!v.endsWith(s), `must not end with '${s}' ${types}`);
    rule(
      PATH_CHARS.test(v),
      "must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']",
    );
  });

const httpHeaderMatch = z.strictObject({
  type: opt(z.enum(['Exact', 'RegularExpression'])),
  name: headerName,
  value: z.string().min(1).max(4096),
});

const httpQueryParamMatch = z.strictObject({
  type: opt(z.enum(['Exact', 'RegularExpression'])),
  name: headerName,
  value: z.string().min(1).max(1024),
});

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

const httpRouteMatch = z.strictObject({
  path: opt(httpPathMatch),
  headers: opt(z.array(httpHeaderMatch).max(16).superRefine(unique(byName))),
  queryParams: opt(z.array(httpQueryParamMatch).max(16).superRefine(unique(byName))),
  method: opt(z.enum(HTTP_METHODS)),
});
type Match = z.output<typeof httpRouteMatch>;

// ---------------------------------------------------------------- HTTPRoute: filters

const httpHeader = z.strictObject({
  name: headerName,
  value: z.string().min(1).max(4096),
});

const httpHeaderFilter = z.strictObject({
  set: opt(z.array(httpHeader).max(16).superRefine(unique(byName))),
  add: opt(z.array(httpHeader).max(16).superRefine(unique(byName))),
  remove: opt(
    z
      .array(z.string())
      .max(16)
      .superRefine(unique((x: string) => x)),
  ),
});

/** HTTPPathModifier: the field that goes with the type, and only it. */
const httpPathModifier = z
  .strictObject({
    type: z.enum(['ReplaceFullPath', 'ReplacePrefixMatch']),
    replaceFullPath: opt(z.string().max(1024)),
    replacePrefixMatch: opt(z.string().max(1024)),
  })
  .superRefine((m, ctx) => {
    cel(
      ctx,
      m,
      m.type !== 'ReplaceFullPath' || m.replaceFullPath != null,
      "replaceFullPath must be specified when type is set to 'ReplaceFullPath'",
    );
    cel(
      ctx,
      m,
      m.replaceFullPath == null || m.type === 'ReplaceFullPath',
      "type must be 'ReplaceFullPath' when replaceFullPath is set",
    );
    cel(
      ctx,
      m,
      m.type !== 'ReplacePrefixMatch' || m.replacePrefixMatch != null,
      "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'",
    );
    cel(
      ctx,
      m,
      m.replacePrefixMatch == null || m.type === 'ReplacePrefixMatch',
      "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set",
    );
  });

const httpRequestRedirectFilter = z.strictObject({
  scheme: opt(z.enum(['http', 'https'])),
  hostname: opt(preciseHostname),
  path: opt(httpPathModifier),
  port: opt(portNumber),
  statusCode: opt(z.literal([301, 302, 303, 307, 308])),
});

const httpURLRewriteFilter = z.strictObject({
  hostname: opt(preciseHostname),
  path: opt(httpPathModifier),
});

/** Fraction: denominator defaults to 100. */
const fraction = z
  .strictObject({
    numerator: i32.min(0),
    denominator: opt(i32.min(1)),
  })
  .superRefine((f, ctx) =>
    cel(ctx, f, f.numerator <= (f.denominator ?? 100), 'numerator must be less than or equal to denominator'),
  );

const httpRequestMirrorFilter = z
  .strictObject({
    backendRef: backendObjectReference,
    percent: opt(i32.min(0).max(100)),
    fraction: opt(fraction),
  })
  .superRefine((m, ctx) =>
    cel(
      ctx,
      m,
      !(m.percent != null && m.fraction != null),
      'Only one of percent or fraction may be specified in HTTPRequestMirrorFilter',
    ),
  );

/** CORS (v1.3 experimental, then standard). */
const httpCORSFilter = z
  .strictObject({
    allowOrigins: opt(
      z
        .array(z.string().min(1).max(253))
        .max(64)
        .superRefine(unique((x: string) => x)),
    ),
    allowCredentials: opt(z.boolean()),
    allowMethods: opt(
      z
        .array(z.enum([...HTTP_METHODS, '*']))
        .max(9)
        .superRefine(unique((x: string) => x)),
    ),
    allowHeaders: opt(
      z
        .array(headerName)
        .max(64)
        .superRefine(unique((x: string) => x)),
    ),
    exposeHeaders: opt(
      z
        .array(headerName)
        .max(64)
        .superRefine(unique((x: string) => x)),
    ),
    maxAge: opt(i32.min(1)),
  })
  .superRefine((c, ctx) => {
    const alone = (xs: readonly string[] | null | undefined) => !(xs?.includes('*') && xs.length > 1);
    cel(ctx, c.allowOrigins, alone(c.allowOrigins), "AllowOrigins cannot contain '*' alongside other origins", [
      'allowOrigins',
    ]);
    cel(ctx, c.allowMethods, alone(c.allowMethods), "AllowMethods cannot contain '*' alongside other methods", [
      'allowMethods',
    ]);
    cel(ctx, c.allowHeaders, alone(c.allowHeaders), "AllowHeaders cannot contain '*' alongside other methods", [
      'allowHeaders',
    ]);
  });

const headerList = opt(
  z
    .array(z.string())
    .max(64)
    .superRefine(unique((x: string) => x)),
);

/** ExternalAuth (experimental). */
const httpExternalAuthFilter = z
  .strictObject({
    protocol: z.enum(['HTTP', 'GRPC']),
    backendRef: backendObjectReference,
    grpc: opt(z.strictObject({ allowedHeaders: headerList })),
    http: opt(
      z.strictObject({
        path: opt(z.string().max(1024).regex(PATH_CHARS)),
        allowedHeaders: headerList,
        allowedResponseHeaders: headerList,
      }),
    ),
    forwardBody: opt(z.strictObject({ maxSize: opt(i32.min(0)) })),
  })
  .superRefine((a, ctx) => {
    cel(ctx, a, a.protocol !== 'GRPC' || a.grpc != null, "grpc must be specified when protocol is set to 'GRPC'");
    cel(ctx, a, a.grpc == null || a.protocol === 'GRPC', "protocol must be 'GRPC' when grpc is set");
    cel(ctx, a, a.protocol !== 'HTTP' || a.http != null, "http must be specified when protocol is set to 'HTTP'");
    cel(ctx, a, a.http == null || a.protocol === 'HTTP', "protocol must be 'HTTP' when http is set");
  });

/** Filter type -> the field holding its configuration. */
const FILTER_FIELDS = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  CORS: 'cors',
  ExternalAuth: 'externalAuth',
  ExtensionRef: 'extensionRef',
} as const;
type FilterType = keyof typeof FILTER_FIELDS;

/** HTTPRouteFilter: `type` names the filter, and exactly the field for it is set. */
const httpRouteFilter = z
  .strictObject({
    type: z.enum(Object.keys(FILTER_FIELDS) as [FilterType, ...FilterType[]]),
    requestHeaderModifier: opt(httpHeaderFilter),
    responseHeaderModifier: opt(httpHeaderFilter),
    requestMirror: opt(httpRequestMirrorFilter),
    requestRedirect: opt(httpRequestRedirectFilter),
    urlRewrite: opt(httpURLRewriteFilter),
    cors: opt(httpCORSFilter),
    externalAuth: opt(httpExternalAuthFilter),
    extensionRef: opt(localObjectReference),
  })
  .superRefine((f, ctx) => {
    for (const [type, field] of Object.entries(FILTER_FIELDS)) {
      const set = f[field] != null;
      cel(ctx, f, !(set && f.type !== type), `filter.${field} must be nil if the filter.type is not ${type}`);
      cel(ctx, f, !(!set && f.type === type), `filter.${field} must be specified for ${type} filter.type`);
    }
  });
type Filter = z.output<typeof httpRouteFilter>;

/** Filters of a rule or of a backendRef: redirect or rewrite, and most filters once. */
const httpRouteFilters = z
  .array(httpRouteFilter)
  .max(16)
  .superRefine((fs: Filter[], ctx) => {
    const count = (t: FilterType) => fs.filter((f) => f.type === t).length;
    cel(
      ctx,
      fs,
      !(count('RequestRedirect') && count('URLRewrite')),
      'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both',
    );
    for (const t of [
      'CORS',
      'RequestHeaderModifier',
      'ResponseHeaderModifier',
      'RequestRedirect',
      'URLRewrite',
    ] as const)
      cel(ctx, fs, count(t) <= 1, `${t} filter cannot be repeated`);
  });

// ---------------------------------------------------------------- HTTPRoute: rules

/** HTTPBackendRef: a BackendRef (object reference and weight) with its own filters. */
const httpBackendRef = z
  .strictObject({
    ...backendObjectReferenceShape,
    weight: opt(i32.min(0).max(1_000_000)),
    filters: opt(httpRouteFilters),
  })
  .superRefine(servicePort);

const httpRouteTimeouts = z
  .strictObject({
    request: opt(duration),
    backendRequest: opt(duration),
  })
  .superRefine((t, ctx) => {
    if (t.request == null || t.backendRequest == null || !DURATION.test(t.request) || !DURATION.test(t.backendRequest))
      return;
    const request = durationMs(t.request);
    cel(
      ctx,
      t,
      !(request !== 0 && durationMs(t.backendRequest) > request),
      'backendRequest timeout cannot be longer than request timeout',
    );
  });

const httpRouteRetry = z.strictObject({
  codes: opt(z.array(i32.min(400).max(599)).superRefine(unique((x: number) => x))),
  attempts: opt(i32),
  backoff: opt(duration),
});

/** Does this filter rewrite or redirect with path.replacePrefixMatch? */
const replacesPrefix = (f: Filter, field: 'requestRedirect' | 'urlRewrite') =>
  f[field]?.path?.type === 'ReplacePrefixMatch' && f[field]?.path?.replacePrefixMatch != null;

const httpRouteRule = z
  .strictObject({
    name: opt(sectionName),
    matches: opt(z.array(httpRouteMatch).max(64)),
    filters: opt(httpRouteFilters),
    backendRefs: opt(z.array(httpBackendRef).max(16)),
    timeouts: opt(httpRouteTimeouts),
    retry: opt(httpRouteRetry),
    // Experimental, and deprecated in favour of a separate resource: accepted as data.
    sessionPersistence: opt(loose),
  })
  .superRefine((r, ctx) => {
    const filters = r.filters ?? [];
    const backendRefs = r.backendRefs ?? [];
    // With the defaults: no matches is one PathPrefix "/" match; a match without path matches PathPrefix "/".
    const matches: Match[] = r.matches ?? [{}];
    const onePrefixMatch = matches.length === 1 && (matches[0].path?.type ?? 'PathPrefix') === 'PathPrefix';
    cel(
      ctx,
      r,
      !(backendRefs.length > 0 && filters.some((f) => f.requestRedirect != null)),
      'RequestRedirect filter must not be used together with backendRefs',
    );
    for (const [field, name] of [
      ['requestRedirect', 'RequestRedirect'],
      ['urlRewrite', 'URLRewrite'],
    ] as const) {
      cel(
        ctx,
        r,
        !one(filters, (f) => replacesPrefix(f, field)) || onePrefixMatch,
        `When using ${name} filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified`,
      );
      const inBackend = one(backendRefs, (b) => one(b.filters ?? [], (f) => replacesPrefix(f, field)));
      cel(
        ctx,
        r,
        !inBackend || onePrefixMatch,
        `Within backendRefs, ${field === 'urlRewrite' ? 'When' : 'when'} using ${name} filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified`,
      );
    }
  });
type Rule = z.output<typeof httpRouteRule>;

const httpRouteSpec = z.strictObject({
  parentRefs: opt(z.array(parentReference).max(32)),
  hostnames: opt(z.array(hostname).max(16)),
  // Defaults to one rule matching every request ([{matches: [{path: {type: PathPrefix, value: /}}]}]).
  rules: opt(
    z
      .array(httpRouteRule)
      .min(1)
      .max(16)
      .superRefine((rs: Rule[], ctx) => {
        cel(
          ctx,
          rs,
          rs.every((r1) => r1.name == null || one(rs, (r2) => r2.name != null && r1.name === r2.name)),
          'Rule name must be unique within the route',
        );
        const total = rs.reduce((n, r) => n + (r.matches == null ? 1 : r.matches.length), 0);
        cel(
          ctx,
          rs,
          total <= 128,
          'While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128',
        );
      }),
  ),
  // Experimental (GEP-3793): attach to the Gateways whose spec.defaultScope matches.
  useDefaultGateways: opt(z.enum(['All', 'None'])),
});

export const httpRoute = z.strictObject({
  ...typeMeta,
  spec: httpRouteSpec,
  status: opt(loose),
});
