import type { KubeObject } from '../control/client/index.js';
import { parseIpv4 } from '../packet/index.js';
import {
  DIR_EGRESS,
  DIR_INGRESS,
  PROTO_TCP,
  VERDICT_DENY,
  VERDICT_OPEN,
  compilePolicies,
  policyNamespaceOf,
  policyOf,
  policyPodOf,
  type Direction,
  type PolicyPod,
  type PolicySet,
} from '../policy/index.js';

/**
 * How much work one verdict of the bench's connection is: the same
 * objects the agents hold, compiled by the same code (src/policy), and the
 * judged pod's rule list read — how many policies select it, how many
 * rules judge() may walk, and where in that list the allowing one is.
 * So the README can say what "1,000 policies" meant for the packet.
 */
export interface SideWork {
  /** policies isolating the pod in this direction */
  policies: number;
  /** its rules in this direction (judge walks them in order) */
  rules: number;
  /** 1-based position of the rule that allowed it; 0 = open (not isolated); -1 = denied */
  allowedAt: number;
}

export interface VerdictWork {
  /** the server's ingress, judged at its node */
  ingress: SideWork;
  /** the client's egress, judged at its node */
  egress: SideWork;
  compileMs: number;
  /** µs for both verdicts of one new connection (ingress + egress judge()), in this process, after a warm-up */
  judgeUs: number;
}

export function compileObjects(
  policies: readonly KubeObject[],
  pods: readonly KubeObject[],
  namespaces: readonly KubeObject[],
): PolicySet {
  return compilePolicies(
    policies.map(policyOf),
    pods.map(policyPodOf).filter((p): p is PolicyPod => p !== null),
    namespaces.map(policyNamespaceOf),
  );
}

function side(set: PolicySet, dir: Direction, pod: number, peer: number, port: number): SideWork {
  const rules = set.rulesOf(pod, dir);
  const v = set.judge(dir, pod, peer, PROTO_TCP, port);
  const allowedAt = v === VERDICT_OPEN ? 0 : v === VERDICT_DENY ? -1 : 1 + (rules ?? []).findIndex((r) => r.id === v);
  return { policies: set.isolatedBy(pod, dir).length, rules: rules?.length ?? 0, allowedAt };
}

/** The client → server:port connection's two verdicts under these objects. */
export function verdictWork(
  policies: readonly KubeObject[],
  pods: readonly KubeObject[],
  namespaces: readonly KubeObject[],
  clientIp: string,
  serverIp: string,
  port: number,
): VerdictWork {
  const t0 = performance.now();
  const set = compileObjects(policies, pods, namespaces);
  const compileMs = performance.now() - t0;
  const c = parseIpv4(clientIp);
  const s = parseIpv4(serverIp);
  return {
    ingress: side(set, DIR_INGRESS, s, c, port),
    egress: side(set, DIR_EGRESS, c, s, port),
    compileMs,
    judgeUs: judgeUs(set, c, s, port),
  };
}

/** What the agents pay per new connection for its two verdicts (the walk over the rule lists), timed here on the same set. */
function judgeUs(set: PolicySet, c: number, s: number, port: number): number {
  const pair = () => set.judge(DIR_INGRESS, s, c, PROTO_TCP, port) + set.judge(DIR_EGRESS, c, s, PROTO_TCP, port);
  for (let i = 0; i < 2000; i++) pair();
  const n = 5000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) pair();
  return ((performance.now() - t0) * 1000) / n;
}

export function describeWork(w: VerdictWork, port: number): string {
  const one = (x: SideWork, what: string) =>
    x.policies === 0
      ? `${what} open`
      : `${what}: ${x.policies} policies, ${x.rules} rules, ${x.allowedAt > 0 ? `allowed by rule ${x.allowedAt} of ${x.rules}` : 'DENIED'}`;
  return `client → server:${port}: ${one(w.ingress, "the server's ingress")}; ${one(w.egress, "the client's egress")}; both verdicts ${w.judgeUs.toFixed(1)} µs (judge() here, on the same compiled set)`;
}
