import { z } from 'zod';
import { anyCidrCovers, parseAnyCidr } from '../../../packet/index.js';
import { typeMeta, labelSelector, intOrString, protocol, conditions } from './meta.js';

/**
 * networking.k8s.io/v1: NetworkPolicy, Ingress, IngressClass, field for field
 * as in k8s.io/api/networking/v1/types.go. Besides the shapes, the checks of
 * Kubernetes' own validation (pkg/apis/networking/validation) that concern a
 * single object are applied with its wording: peers, port ranges, Ingress
 * paths and backends, IngressClass parameters.
 *
 * Kubernetes decodes a JSON null as "not set", so every optional field may be
 * null: a YAML key with nothing after it (the article's `- to:  # External
 * API`) is valid and means the same as leaving the key out.
 */
const opt = <T extends z.ZodType>(s: T) => s.nullish();
const i32 = z.number().int();
const strings = z.array(z.string());

type Ctx = z.core.$RefinementCtx;
const invalid = (ctx: Ctx, path: PropertyKey[], value: unknown, why: string) =>
  ctx.addIssue({ code: 'custom', path, input: value, message: `Invalid value: ${JSON.stringify(value)}: ${why}` });
const required = (ctx: Ctx, path: PropertyKey[], why: string) =>
  ctx.addIssue({ code: 'custom', path, input: undefined, message: `Required value${why ? `: ${why}` : ''}` });
const forbidden = (ctx: Ctx, path: PropertyKey[], why: string) =>
  ctx.addIssue({ code: 'custom', path, input: undefined, message: `Forbidden: ${why}` });

/** k8s.io/apimachinery/pkg/util/validation IsValidPortNum */
export function portNumErrors(port: number): string[] {
  return port >= 1 && port <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

/** k8s.io/apimachinery/pkg/util/validation IsValidPortName (an IANA_SVC_NAME) */
export function portNameErrors(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  else if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

// ---------------------------------------------------------------- NetworkPolicy

/** IPBlock: `except` entries must lie strictly inside `cidr`. */
const ipBlock = z
  .strictObject({
    cidr: z.string(),
    except: opt(strings),
  })
  .superRefine((b, ctx) => {
    if (b.cidr === '') return required(ctx, ['cidr'], '');
    const cidr = parseAnyCidr(b.cidr);
    if (!cidr) return invalid(ctx, ['cidr'], b.cidr, 'not a valid CIDR');
    for (const [i, e] of (b.except ?? []).entries()) {
      const ex = parseAnyCidr(e);
      if (!ex) return invalid(ctx, ['except', i], e, 'not a valid CIDR');
      const inside = anyCidrCovers(cidr, ex) && cidr.prefixLen < ex.prefixLen;
      if (!inside) invalid(ctx, ['except', i], e, 'must be a strict subset of `cidr`');
    }
  });

/** NetworkPolicyPeer: at least one selector, and ipBlock alone. */
const networkPolicyPeer = z
  .strictObject({
    podSelector: opt(labelSelector),
    namespaceSelector: opt(labelSelector),
    ipBlock: opt(ipBlock),
  })
  .superRefine((p, ctx) => {
    const n = [p.podSelector, p.namespaceSelector, p.ipBlock].filter((x) => x != null).length;
    if (n === 0) required(ctx, [], 'must specify a peer');
    else if (n > 1 && p.ipBlock != null) forbidden(ctx, [], 'may not specify both ipBlock and another peer');
  });

/** NetworkPolicyPort: port is a number (1-65535, optionally a range up to endPort) or a named container port. */
const networkPolicyPort = z
  .strictObject({
    protocol: opt(protocol),
    port: opt(intOrString),
    endPort: opt(i32),
  })
  .superRefine((p, ctx) => {
    if (typeof p.port === 'number') {
      for (const e of portNumErrors(p.port)) invalid(ctx, ['port'], p.port, e);
      if (p.endPort != null) {
        if (p.endPort < p.port) invalid(ctx, ['endPort'], p.port, 'must be greater than or equal to `port`');
        for (const e of portNumErrors(p.endPort)) invalid(ctx, ['endPort'], p.endPort, e);
      }
    } else if (typeof p.port === 'string') {
      if (p.endPort != null) invalid(ctx, ['endPort'], p.endPort, 'may not be specified when `port` is non-numeric');
      for (const e of portNameErrors(p.port)) invalid(ctx, ['port'], p.port, e);
    } else if (p.endPort != null) {
      invalid(ctx, ['endPort'], p.endPort, 'may not be specified when `port` is not specified');
    }
  });

const networkPolicyIngressRule = z.strictObject({
  ports: opt(z.array(networkPolicyPort)),
  from: opt(z.array(networkPolicyPeer)),
});

const networkPolicyEgressRule = z.strictObject({
  ports: opt(z.array(networkPolicyPort)),
  to: opt(z.array(networkPolicyPeer)),
});

const networkPolicySpec = z.strictObject({
  // Optional in the type: "If it is not specified, it defaults to an empty selector" (all pods).
  podSelector: opt(labelSelector),
  ingress: opt(z.array(networkPolicyIngressRule)),
  egress: opt(z.array(networkPolicyEgressRule)),
  policyTypes: opt(z.array(z.enum(['Ingress', 'Egress'])).max(2, 'may not specify more than two policyTypes')),
});

export const networkPolicy = z.strictObject({
  ...typeMeta,
  spec: opt(networkPolicySpec),
  // NetworkPolicyStatus (conditions) was an alpha field in Kubernetes 1.24-1.27
  // and has since been removed (tombstoned in the type). It is still accepted
  // here so that objects exported from those clusters (`status: {}`) apply.
  status: opt(z.strictObject({ conditions })),
});

// ---------------------------------------------------------------- Ingress

/** kind and name of a reference: present and not empty. */
const kindAndName = (r: { kind: string; name: string }, ctx: Ctx) => {
  if (r.kind === '') required(ctx, ['kind'], 'kind is required');
  if (r.name === '') required(ctx, ['name'], 'name is required');
};

/** core/v1 TypedLocalObjectReference */
const typedLocalObjectReference = z
  .strictObject({
    apiGroup: opt(z.string()),
    kind: z.string(),
    name: z.string(),
  })
  .superRefine(kindAndName);

const serviceBackendPort = z.strictObject({
  name: opt(z.string()),
  number: opt(i32),
});

const ingressServiceBackend = z.strictObject({
  name: z.string(),
  port: opt(serviceBackendPort),
});

/** IngressBackend: a Service (name and a port name or number) or a resource, exactly one. */
const ingressBackend = z
  .strictObject({
    service: opt(ingressServiceBackend),
    resource: opt(typedLocalObjectReference),
  })
  .superRefine((b, ctx) => {
    if (b.service != null && b.resource != null)
      return invalid(ctx, [], '', 'cannot set both resource and service backends');
    if (b.resource != null) return;
    if (b.service == null) return invalid(ctx, [], '', 'resource or service backend is required');
    if (b.service.name === '') required(ctx, ['service', 'name'], '');
    const name = b.service.port?.name ?? '';
    const number = b.service.port?.number ?? 0;
    if (name && number) invalid(ctx, [], '', 'cannot set both port name & port number');
    else if (name) for (const e of portNameErrors(name)) invalid(ctx, ['service', 'port', 'name'], name, e);
    else if (number) for (const e of portNumErrors(number)) invalid(ctx, ['service', 'port', 'number'], number, e);
    else required(ctx, [], 'port name or number is required');
  });

const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];

/** HTTPIngressPath: pathType is required; Exact and Prefix paths are absolute and clean. */
const httpIngressPath = z
  .strictObject({
    path: opt(z.string()),
    pathType: z.enum(['Exact', 'Prefix', 'ImplementationSpecific']),
    backend: ingressBackend,
  })
  .superRefine((p, ctx) => {
    const path = p.path ?? '';
    if (p.pathType === 'ImplementationSpecific') {
      if (path && !path.startsWith('/')) invalid(ctx, ['path'], path, 'must be an absolute path');
      return;
    }
    if (!path.startsWith('/')) invalid(ctx, ['path'], path, 'must be an absolute path');
    for (const s of INVALID_PATH_SEQUENCES)
      if (path.includes(s)) invalid(ctx, ['path'], path, `must not contain '${s}'`);
    for (const s of INVALID_PATH_SUFFIXES) if (path.endsWith(s)) invalid(ctx, ['path'], path, `cannot end with '${s}'`);
  });

const ingressRule = z.strictObject({
  host: opt(z.string()),
  // IngressRuleValue is inlined: `http` sits directly in the rule.
  http: opt(z.strictObject({ paths: z.array(httpIngressPath).min(1, 'Required value') })),
});

const ingressTLS = z.strictObject({
  hosts: opt(strings),
  secretName: opt(z.string()),
});

const ingressSpec = z.strictObject({
  ingressClassName: opt(z.string()),
  defaultBackend: opt(ingressBackend),
  tls: opt(z.array(ingressTLS)),
  rules: opt(z.array(ingressRule)),
});

const ingressPortStatus = z.strictObject({
  port: i32,
  protocol,
  error: opt(z.string().max(316)),
});

const ingressStatus = z.strictObject({
  loadBalancer: opt(
    z.strictObject({
      ingress: opt(
        z.array(
          z.strictObject({
            ip: opt(z.string()),
            hostname: opt(z.string()),
            ports: opt(z.array(ingressPortStatus)),
          }),
        ),
      ),
    }),
  ),
});

export const ingress = z
  .strictObject({
    ...typeMeta,
    spec: opt(ingressSpec),
    status: opt(ingressStatus),
  })
  .superRefine((o, ctx) => {
    if (!o.spec?.rules?.length && o.spec?.defaultBackend == null)
      invalid(ctx, ['spec'], o.spec?.rules ?? null, 'either `defaultBackend` or `rules` must be specified');
  });

// ---------------------------------------------------------------- IngressClass

/** IngressClassParametersReference: scope defaults to Cluster; namespace only (and then always) with scope Namespace. */
const ingressClassParameters = z
  .strictObject({
    apiGroup: opt(z.string()),
    kind: z.string(),
    name: z.string(),
    scope: opt(z.enum(['Cluster', 'Namespace'])),
    namespace: opt(z.string()),
  })
  .superRefine((p, ctx) => {
    kindAndName(p, ctx);
    // Defaulted to Cluster when left out.
    const scope = p.scope ?? 'Cluster';
    if (scope === 'Namespace' && p.namespace == null)
      required(ctx, ['namespace'], "`parameters.scope` is set to 'Namespace'");
    if (scope === 'Cluster' && p.namespace != null)
      forbidden(ctx, ['namespace'], "`parameters.scope` is set to 'Cluster'");
  });

/** IsDomainPrefixedPath, as Kubernetes checks spec.controller ("acme.io/ingress-controller"). */
const DOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DOMAIN_PATH = /^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

const ingressClassSpec = z
  .strictObject({
    // Optional in the type, but Kubernetes' validation requires it (IsDomainPrefixedPath).
    controller: z.string().max(250),
    parameters: opt(ingressClassParameters),
  })
  .superRefine((s, ctx) => {
    if (s.controller === '') return required(ctx, ['controller'], '');
    const slash = s.controller.indexOf('/');
    const host = slash < 0 ? '' : s.controller.slice(0, slash);
    const path = slash < 0 ? '' : s.controller.slice(slash + 1);
    if (!host || !path)
      return invalid(ctx, ['controller'], s.controller, 'must be a domain-prefixed path (such as "acme.io/foo")');
    if (host.length > 253 || !DOMAIN.test(host))
      invalid(ctx, ['controller'], host, 'must be a lowercase RFC 1123 subdomain');
    if (!DOMAIN_PATH.test(path))
      invalid(
        ctx,
        ['controller'],
        path,
        'segment of the path must contain only alphanumeric characters or one of "/-._~%!$&\'()*+,;=:"',
      );
  });

export const ingressClass = z.strictObject({
  ...typeMeta,
  // IngressClass has no status. Its spec is optional in the type, but without
  // one spec.controller is missing, which Kubernetes refuses.
  spec: ingressClassSpec,
});
