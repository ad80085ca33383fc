/**
 * The expected verdict of a connection from the project's own policy
 * model (src/policy), as the dataplane enforces it: the source pod's
 * egress and the destination pod's ingress must both allow it. A pod to
 * itself is always allowed (its traffic never leaves the pod); pods on one
 * node are still judged both ways (only traffic from the pod's own NODE is
 * exempt, and probe sends none). Through a Service the verdict is the
 * backend's, on its target port: the port of the table.
 */
import {
  DIR_EGRESS,
  DIR_INGRESS,
  VERDICT_DENY,
  protoNumber,
  verdictText,
  type PolicyPod,
  type PolicySet,
} from '../policy/index.js';
import type { ProbeProtocol } from './plan.js';

export interface Expectation {
  allowed: boolean;
  /** why, in the model's words: both directions' verdicts, or the one that denies */
  why: string;
}

export function expectConnection(
  set: PolicySet,
  from: PolicyPod,
  to: PolicyPod,
  proto: ProbeProtocol,
  port: number,
): Expectation {
  if (from.ip === to.ip) return { allowed: true, why: 'a pod to itself: the traffic never leaves the pod' };
  const p = protoNumber(proto);
  const egress = set.judge(DIR_EGRESS, from.ip, to.ip, p, port);
  const ingress = set.judge(DIR_INGRESS, to.ip, from.ip, p, port);
  const e = verdictText(set, DIR_EGRESS, from.ip, to.ip, p, port, egress);
  const i = verdictText(set, DIR_INGRESS, to.ip, from.ip, p, port, ingress);
  if (egress === VERDICT_DENY || ingress === VERDICT_DENY) {
    return {
      allowed: false,
      why: [egress === VERDICT_DENY ? e : '', ingress === VERDICT_DENY ? i : ''].filter(Boolean).join('; '),
    };
  }
  return { allowed: true, why: `${e}; ${i}` };
}
