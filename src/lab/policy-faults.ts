import type { ApiClient, KubeObject } from '../control/client/index.js';
import { callAgent, agentSocketPath } from '../agent/index.js';
import type { LabState } from './lab.js';
import type { Scenario } from './faults.js';
import { split, withClient } from './service-faults.js';
import { waitFor } from './wait.js';
import { LabError } from './errors.js';

/**
 * NetworkPolicy faults: the three mistakes the articles warn about, each
 * made as one NetworkPolicy a careless `kubectl apply` would add. `lab fix`
 * deletes it again (the lab had no policy of that name before: break fails
 * with AlreadyExists otherwise, and nothing is recorded).
 *
 *   default-deny-dns    the article's default-deny-all (Ingress and Egress)
 *                       in a namespace: every pod in it is cut off, and its
 *                       DNS queries to kube-dns are denied as egress too
 *   or-not-and          a policy meant to admit only the frontend pods
 *                       (tier=frontend) of the Service's namespace, written
 *                       with two peers: ORed, it admits every pod of the
 *                       namespace (the client too) and every frontend pod
 *   named-port-missing  an ingress rule for a named port ("http") that no
 *                       container of the Service's pods declares: a named
 *                       port is resolved on the destination pod, so the rule
 *                       allows nothing, and the policy isolates the pods
 *
 * The policies carry the label LAB_FAULT_LABEL, so `podwire get netpol -A
 * -l podwire.io/lab-fault` shows what lab break added. Break and fix return
 * once every running agent enforces the change (its GET /policy), so the
 * next connection a learner tries already meets it.
 */
export const LAB_FAULT_LABEL = 'podwire.io/lab-fault';
/** the pods or-not-and meant to admit (the demo app's frontend) */
export const MEANT_PODS = { tier: 'frontend' };
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const NAMED_PORT_CANDIDATES = ['http', 'web', 'http-api'];

type Obj = Record<string, any>;

/** Where a scenario's policy lives and its name: the target is a namespace (default-deny-dns) or `[namespace/]service`. */
export function faultPolicyName(scenario: string, target: string): { namespace: string; name: string } {
  if (scenario === 'default-deny-dns') return { namespace: target, name: 'default-deny-all' };
  const [namespace, service] = split(target);
  return { namespace, name: scenario === 'or-not-and' ? `allow-frontend-to-${service}` : `allow-http-to-${service}` };
}

/** The NetworkPolicy each scenario adds (pure: tests and docs read it). */
export function faultPolicy(
  scenario: string,
  target: string,
  opts: { selector?: Record<string, string>; portName?: string } = {},
): Obj {
  const { namespace, name } = faultPolicyName(scenario, target);
  const metadata = { name, namespace, labels: { [LAB_FAULT_LABEL]: scenario } };
  const podSelector = { matchLabels: opts.selector ?? {} };
  switch (scenario) {
    case 'default-deny-dns':
      // the article's "Default Deny Everything", unchanged but for its namespace
      return {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata,
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      };
    case 'or-not-and':
      // meant: frontend pods AND in this namespace (one peer); written: two peers, ORed
      return {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata,
        spec: {
          podSelector,
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [
                { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } } },
                { podSelector: { matchLabels: MEANT_PODS } },
              ],
            },
          ],
        },
      };
    case 'named-port-missing':
      return {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata,
        spec: {
          podSelector,
          policyTypes: ['Ingress'],
          ingress: [{ ports: [{ protocol: 'TCP', port: opts.portName ?? 'http' }] }],
        },
      };
    default:
      throw new LabError('ERR_NO_SUCH_SCENARIO', `no policy fault "${scenario}"`);
  }
}

/** A port name that none of these pods' containers declares (the first of NAMED_PORT_CANDIDATES). */
export function missingPortName(pods: Obj[]): string {
  const names = new Set<string>();
  for (const p of pods)
    for (const c of p.spec?.containers ?? []) for (const port of c.ports ?? []) if (port.name) names.add(port.name);
  const name = NAMED_PORT_CANDIDATES.find((n) => !names.has(n));
  if (!name)
    throw new LabError(
      'ERR_FAULT',
      `the pods already name ports ${NAMED_PORT_CANDIDATES.join(', ')}: no name left to be missing`,
    );
  return name;
}

/** The Service's selector and the pods it selects. */
async function serviceTarget(
  c: ApiClient,
  ns: string,
  name: string,
): Promise<{ selector: Record<string, string>; pods: KubeObject[] }> {
  const svc = await c.tryGet('services', ns, name);
  if (!svc) throw new LabError('ERR_NOT_FOUND', `service ${ns}/${name} not found`);
  const selector = svc.spec?.selector as Record<string, string> | undefined;
  if (!selector || !Object.keys(selector).length)
    throw new LabError('ERR_FAULT', `service ${ns}/${name} has no selector: no pods for a policy to select`);
  const labelSelector = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return { selector, pods: (await c.list('pods', { namespace: ns, labelSelector })).items };
}

async function policyFor(state: LabState, scenario: string, target: string): Promise<Obj> {
  return withClient(state, async (c) => {
    if (scenario === 'default-deny-dns') {
      if (!(await c.tryGet('namespaces', undefined, target)))
        throw new LabError('ERR_NOT_FOUND', `namespace ${target} not found`);
      return faultPolicy(scenario, target);
    }
    const [ns, name] = split(target);
    const { selector, pods } = await serviceTarget(c, ns, name);
    return faultPolicy(scenario, target, {
      selector,
      portName: scenario === 'named-port-missing' ? missingPortName(pods) : undefined,
    });
  });
}

/** Until every agent that answers has (present) or no longer has the policy `ns/name` in its compiled set. */
async function untilAgentsHave(state: LabState, key: string, present: boolean): Promise<void> {
  await waitFor(
    `every agent to ${present ? 'enforce' : 'drop'} NetworkPolicy ${key}`,
    10_000,
    async () => {
      for (const n of state.plan.nodes) {
        const r = await callAgent(agentSocketPath(n.stateDir), 'GET', '/policy', undefined, 2000).catch(() => null);
        if (r?.status !== 200) continue; // an agent that is down enforces nothing (agent-down may be broken too)
        const has = (r.body?.policies ?? []).some((p: { name: string }) => p.name === key);
        if (has !== present) return false;
      }
      return true;
    },
    50,
  );
}

function policyScenario(
  name: string,
  target: 'namespace' | 'service',
  defaultTarget: string,
  summary: string,
  findWith: string,
): Scenario {
  return {
    name,
    summary,
    findWith,
    target,
    defaultTarget,
    async break(state, t) {
      const policy = await policyFor(state, name, t);
      await withClient(state, (c) => c.create(policy));
      await untilAgentsHave(state, `${policy.metadata.namespace}/${policy.metadata.name}`, true);
    },
    async fix(state, t) {
      const { namespace, name: policyName } = faultPolicyName(name, t);
      await withClient(state, async (c) => {
        if (await c.tryGet('networkpolicies', namespace, policyName))
          await c.delete('networkpolicies', namespace, policyName);
      });
      await untilAgentsHave(state, `${namespace}/${policyName}`, false);
    },
  };
}

export const POLICY_SCENARIOS: Scenario[] = [
  policyScenario(
    'default-deny-dns',
    'namespace',
    'default',
    'add the article’s default-deny-all (Ingress and Egress) to a namespace: its pods are cut off, DNS included',
    'nslookup from a pod there → timed out, no servers could be reached; podwire observe --verdict DROPPED → policy-denied-egress to 10.96.0.10:53 (egress: isolated by <ns>/default-deny-all; no rule allowed it); podwire trace <pod> <name> → DNS-FAILED at the policy layer',
  ),
  policyScenario(
    'or-not-and',
    'service',
    'backend',
    'let only the frontend pods (tier=frontend) of a Service’s namespace reach its pods — written as two peers: ORed, every pod of the namespace gets in',
    'podwire exec client -- curl <service> → answered, though the client is no frontend; podwire explain-policy client svc/<service> → allowed by <ns>/allow-frontend-to-<service> ingress[0]: from (every pod in namespaces …) OR (pods tier=frontend …); podwire describe netpol allow-frontend-to-<service> → a warning: two peers, ORed',
  ),
  policyScenario(
    'named-port-missing',
    'service',
    'backend',
    'allow ingress to a Service’s pods on the named port "http", which none of their containers declares: the rule allows nothing',
    'curl <service> → times out; podwire observe --verdict DROPPED → policy-denied-ingress (isolated by <ns>/allow-http-to-<service>); podwire explain-policy <pod> svc/<service> → denied: port named "http", the peer matches, the port does not; podwire describe netpol allow-http-to-<service> → a warning: no pod it selects has that port',
  ),
];
