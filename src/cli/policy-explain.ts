import { parseIpv4 } from '../packet/index.js';
import {
  DIR_EGRESS,
  DIR_INGRESS,
  PolicyError,
  VERDICT_DENY,
  VERDICT_OPEN,
  compilePolicies,
  policyNamespaceOf,
  policyOf,
  policyPodOf,
  protoNumber,
  protoText,
  ruleText,
  type Direction,
  type PolicyPod,
  type PolicySet,
} from '../policy/index.js';

/**
 * `podwire explain-policy <from-pod> <to>:<port>[/proto]`, the reasoning
 * (pure; the words are policy-explain-format.ts, the API calls
 * policy-explain-command.ts): the cluster's policies compiled with
 * compilePolicies, then for the connection — or, through a Service, for
 * each backend pod on its target port, as the dataplane judges it after
 * DNAT — egress at the source and ingress at the destination, each open,
 * allowed by a policy's rule, or denied with the policies that isolate it
 * and, rule by rule, what did not match.
 */
type Obj = Record<string, any>;

export interface Target {
  /** `either`: a bare NAME — a pod of that name, else a Service */
  kind: 'pod' | 'service' | 'either';
  namespace: string;
  name: string;
  /** a number or a port name; absent: every port of a Service */
  port?: string;
  /** TCP | UDP | SCTP when given */
  protocol?: string;
}

const PROTOS = new Set(['TCP', 'UDP', 'SCTP']);

/** `NAME` | `NS/NAME` | `pod/NAME` | `svc/NAME` | `svc/NS/NAME`, then `:PORT` (number or name) and `/tcp|udp|sctp`. */
export function parseTarget(text: string, namespace: string): Target {
  const m = /^([^:]+?)(?::([^/:]+)(?:\/([A-Za-z]+))?)?$/.exec(text);
  if (!m) throw new PolicyError('ERR_BAD_TARGET', `"${text}" is not <pod|NS/pod|svc/NAME>:<port>[/tcp|udp|sctp]`);
  const protocol = m[3]?.toUpperCase();
  if (protocol !== undefined && !PROTOS.has(protocol))
    throw new PolicyError('ERR_BAD_TARGET', `"${m[3]}" is not a protocol (tcp, udp or sctp)`);
  const parts = m[1].split('/');
  let kind: Target['kind'] = 'either';
  if (parts.length > 1 && /^(svc|service|services)$/.test(parts[0])) ((kind = 'service'), parts.shift());
  else if (parts.length > 1 && /^(po|pod|pods)$/.test(parts[0])) ((kind = 'pod'), parts.shift());
  if (parts.length > 2 || parts.some((p) => p === ''))
    throw new PolicyError('ERR_BAD_TARGET', `"${m[1]}" is not NAME, NS/NAME, pod/NAME or svc/[NS/]NAME`);
  const [ns, name] = parts.length === 2 ? parts : [namespace, parts[0]];
  if (kind === 'either' && parts.length === 2) kind = 'pod';
  return { kind, namespace: ns, name, port: m[2], protocol };
}

/** `NAME` or `NS/NAME` (or pod/NAME) → namespace and name. */
export function parsePodRef(text: string, namespace: string): { namespace: string; name: string } {
  const parts = text.replace(/^(po|pod|pods)\//, '').split('/');
  if (parts.length > 2 || parts.some((p) => p === ''))
    throw new PolicyError('ERR_BAD_TARGET', `"${text}" is not a pod (NAME or NS/NAME)`);
  return parts.length === 2 ? { namespace: parts[0], name: parts[1] } : { namespace, name: parts[0] };
}

export interface Endpoint {
  namespace: string;
  name: string;
  ip: string;
  node?: string;
  hostNetwork?: boolean;
}

/** One side's verdict: open (no policy isolates it), allowed by a rule, denied, or not judged (not a pod to policy). */
export interface Side {
  verdict: 'open' | 'allowed' | 'denied' | 'not-judged';
  /** allowed: the policy and its rule */
  policy?: string;
  rule?: string;
  ruleText?: string;
  /** denied: the policies isolating the pod, and for each of their rules what did not match */
  isolatedBy?: string[];
  misses?: { policy: string; rule: string; ruleText: string; peer: boolean; port: boolean }[];
  /** not-judged, or allowed without a rule: why */
  reason?: string;
}

export interface Path {
  backend: Endpoint;
  /** the destination port after DNAT; null: the backend has no container port of that name */
  port: number | null;
  protocol: string;
  ready: boolean;
  egress: Side;
  ingress: Side;
  allowed: boolean;
  note?: string;
}

export interface Explanation {
  from: Endpoint;
  to: {
    kind: 'Pod' | 'Service';
    namespace: string;
    name: string;
    ip?: string;
    port?: number | string;
    protocol?: string;
  };
  /** one per Service port asked (one for a pod) */
  ports: { port: number | string; protocol: string; paths: Path[] }[];
  verdict: 'allowed' | 'denied' | 'partly-allowed' | 'no-backends';
  allowed: boolean;
}

export interface ClusterObjects {
  pods: Obj[];
  namespaces: Obj[];
  policies: Obj[];
  services: Obj[];
}

const notFound = (what: string, ns: string, name: string) =>
  new PolicyError('ERR_BAD_TARGET', `${what} "${name}" not found in namespace "${ns}"`);

export function explainConnection(
  objs: ClusterObjects,
  from: { namespace: string; name: string },
  target: Target,
): Explanation {
  const set = compilePolicies(
    objs.policies.map(policyOf),
    objs.pods.map(policyPodOf).filter((p): p is PolicyPod => p !== null),
    objs.namespaces.map(policyNamespaceOf),
  );
  const find = (ns: string, name: string) =>
    objs.pods.find((p) => (p.metadata?.namespace ?? 'default') === ns && p.metadata?.name === name);
  const srcObj = find(from.namespace, from.name);
  if (!srcObj) throw notFound('pods', from.namespace, from.name);
  const src = endpointOf(srcObj);
  let kind = target.kind;
  if (kind === 'either') kind = find(target.namespace, target.name) || !serviceOf(objs, target) ? 'pod' : 'service';
  return kind === 'pod'
    ? toPod(set, objs, src, target, find(target.namespace, target.name))
    : toService(set, objs, src, target);
}

function endpointOf(pod: Obj): Endpoint {
  const ip: unknown = pod.status?.podIP;
  const e: Endpoint = {
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
    ip: typeof ip === 'string' ? ip : '',
    node: pod.spec?.nodeName,
  };
  if (pod.spec?.hostNetwork === true) e.hostNetwork = true;
  if (!e.ip) throw new PolicyError('ERR_BAD_TARGET', `pod ${e.namespace}/${e.name} has no IP yet: nothing to judge`);
  return e;
}

function serviceOf(objs: ClusterObjects, t: Target): Obj | undefined {
  return objs.services.find((s) => (s.metadata?.namespace ?? 'default') === t.namespace && s.metadata?.name === t.name);
}

function containerPorts(pod: Obj): Obj[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].flatMap((c: Obj) => c.ports ?? []);
}

function toPod(set: PolicySet, objs: ClusterObjects, src: Endpoint, t: Target, dstObj: Obj | undefined): Explanation {
  if (!dstObj) throw notFound('pods', t.namespace, t.name);
  const dst = endpointOf(dstObj);
  if (t.port === undefined)
    throw new PolicyError('ERR_BAD_TARGET', `which port? ${t.namespace}/${t.name}:<port>[/tcp|udp|sctp]`);
  let port = Number(t.port);
  let protocol = t.protocol ?? 'TCP';
  if (!/^\d+$/.test(t.port)) {
    const named = containerPorts(dstObj).find(
      (p) => p.name === t.port && (!t.protocol || (p.protocol ?? 'TCP') === t.protocol),
    );
    if (!named)
      throw new PolicyError(
        'ERR_BAD_TARGET',
        `pod ${dst.namespace}/${dst.name} has no container port named "${t.port}"${t.protocol ? ` (${t.protocol})` : ''}`,
      );
    port = named.containerPort;
    protocol = named.protocol ?? 'TCP';
  }
  const path = judgePath(set, src, dst, port, protocol, true, false);
  return {
    from: src,
    to: { kind: 'Pod', namespace: dst.namespace, name: dst.name, ip: dst.ip, port, protocol },
    ports: [{ port, protocol, paths: [path] }],
    verdict: path.allowed ? 'allowed' : 'denied',
    allowed: path.allowed,
  };
}

function toService(set: PolicySet, objs: ClusterObjects, src: Endpoint, t: Target): Explanation {
  const svc = serviceOf(objs, t);
  if (!svc) throw notFound('services', t.namespace, t.name);
  const all: Obj[] = svc.spec?.ports ?? [];
  const wanted = all.filter(
    (p) =>
      (t.port === undefined || String(p.port) === t.port || p.name === t.port) &&
      (!t.protocol || (p.protocol ?? 'TCP') === t.protocol),
  );
  if (!wanted.length) {
    const has = all.map((p) => `${p.port}/${p.protocol ?? 'TCP'}${p.name ? ` (${p.name})` : ''}`).join(', ') || 'none';
    throw new PolicyError(
      'ERR_BAD_TARGET',
      `service ${t.namespace}/${t.name} has no port ${t.port}${t.protocol ? `/${t.protocol}` : ''} (its ports: ${has})`,
    );
  }
  const selector: Record<string, string> = svc.spec?.selector ?? {};
  const backends = Object.keys(selector).length
    ? objs.pods
        .filter(
          (p) =>
            (p.metadata?.namespace ?? 'default') === t.namespace &&
            Object.entries(selector).every(([k, v]) => p.metadata?.labels?.[k] === v),
        )
        .filter(
          (p) =>
            p.status?.podIP &&
            p.status?.phase !== 'Succeeded' &&
            p.status?.phase !== 'Failed' &&
            !p.metadata?.deletionTimestamp,
        )
        .sort((a, b) => String(a.metadata.name).localeCompare(b.metadata.name))
    : [];
  const ports = wanted.map((sp) => {
    const protocol: string = sp.protocol ?? 'TCP';
    const paths = backends.map((b) => {
      const dst = endpointOf(b);
      const ready = (b.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True');
      const tp = sp.targetPort ?? sp.port;
      const port: number | undefined =
        typeof tp === 'number' || /^\d+$/.test(String(tp))
          ? Number(tp)
          : containerPorts(b).find((c) => c.name === tp && (c.protocol ?? 'TCP') === protocol)?.containerPort;
      if (port === undefined) {
        const none: Side = { verdict: 'not-judged', reason: 'no such port' };
        return {
          backend: dst,
          port: null,
          protocol,
          ready,
          egress: none,
          ingress: none,
          allowed: false,
          note: `no container port named "${tp}" (${protocol}): not a backend for this port`,
        } satisfies Path;
      }
      return judgePath(set, src, dst, port, protocol, ready, src.namespace === dst.namespace && src.name === dst.name);
    });
    return { port: sp.port as number, protocol, paths };
  });
  const counted = ports.flatMap((p) => p.paths).filter((p) => p.ready && p.port !== null);
  const ok = counted.filter((p) => p.allowed).length;
  const verdict = !counted.length
    ? 'no-backends'
    : ok === counted.length
      ? 'allowed'
      : ok === 0
        ? 'denied'
        : 'partly-allowed';
  const one = wanted.length === 1 ? wanted[0] : undefined;
  return {
    from: src,
    to: {
      kind: 'Service',
      namespace: t.namespace,
      name: t.name,
      ip: svc.spec?.clusterIP,
      ...(one ? { port: one.port, protocol: one.protocol ?? 'TCP' } : {}),
    },
    ports,
    verdict,
    allowed: verdict === 'allowed',
  };
}

function judgePath(
  set: PolicySet,
  src: Endpoint,
  dst: Endpoint,
  port: number,
  protocol: string,
  ready: boolean,
  hairpin: boolean,
): Path {
  const proto = protoNumber(protocol);
  const srcIp = parseIpv4(src.ip);
  const dstIp = parseIpv4(dst.ip);
  const egress: Side = src.hostNetwork
    ? { verdict: 'not-judged', reason: 'a hostNetwork pod is no pod to NetworkPolicy: its traffic is its node’s' }
    : side(set, DIR_EGRESS, srcIp, dstIp, proto, port);
  let ingress: Side;
  if (dst.hostNetwork)
    ingress = { verdict: 'not-judged', reason: 'a hostNetwork pod is no pod to NetworkPolicy: it is its node' };
  else if (src.hostNetwork && src.node !== undefined && src.node === dst.node)
    ingress = { verdict: 'allowed', reason: 'from the pod’s own node: always allowed' };
  else if (hairpin)
    ingress = {
      verdict: 'allowed',
      reason:
        'a pod reaching itself through its Service arrives from its node’s address (hairpin SNAT): always allowed',
    };
  else ingress = side(set, DIR_INGRESS, dstIp, srcIp, proto, port);
  return {
    backend: dst,
    port,
    protocol: protoText(proto),
    ready,
    egress,
    ingress,
    allowed: egress.verdict !== 'denied' && ingress.verdict !== 'denied',
  };
}

function side(set: PolicySet, dir: Direction, podIp: number, peerIp: number, proto: number, port: number): Side {
  const v = set.judge(dir, podIp, peerIp, proto, port);
  if (v === VERDICT_OPEN) return { verdict: 'open' };
  if (v !== VERDICT_DENY) {
    const r = set.rule(v)!;
    return {
      verdict: 'allowed',
      policy: r.policy.key,
      rule: `${dir === DIR_INGRESS ? 'ingress' : 'egress'}[${r.index}]`,
      ruleText: ruleText(r),
    };
  }
  const misses = (set.rulesOf(podIp, dir) ?? []).map((r) => {
    const m = set.ruleMatches(r, podIp, peerIp, proto, port);
    return {
      policy: r.policy.key,
      rule: `${dir === DIR_INGRESS ? 'ingress' : 'egress'}[${r.index}]`,
      ruleText: ruleText(r),
      peer: m.peer,
      port: m.port,
    };
  });
  return { verdict: 'denied', isolatedBy: set.isolatedBy(podIp, dir).map((p) => p.key), misses };
}
