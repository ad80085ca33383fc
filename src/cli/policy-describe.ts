import {
  DIR_EGRESS,
  DIR_INGRESS,
  compilePolicies,
  lintPolicy,
  policyNamespaceOf,
  policyOf,
  policyPodOf,
  ruleSpecText,
  selectorText,
  type CompiledRule,
  type Direction,
  type PolicyPod,
  type PolicySet,
} from '../policy/index.js';
import { selectorIsEmpty } from '../policy/index.js';

/**
 * `podwire describe netpol`'s own part, after kubectl's text (which stays
 * kubectl's, byte for byte): the policy in plain words — the pods it
 * selects now, whether it isolates each direction, each rule (peers ORed,
 * the two selectors of one peer ANDed) with the pods it admits now, and
 * lintPolicy's warnings. Pure: the API objects in, the text out.
 */
type Obj = Record<string, any>;

/** names listed before "… and N more" */
const MAX_NAMES = 10;

export function explainedSection(np: Obj, pods: readonly Obj[], namespaces: readonly Obj[]): string {
  const policy = policyOf(np);
  const ns = policy.metadata.namespace ?? 'default';
  const key = `${ns}/${policy.metadata.name}`;
  const set = compilePolicies(
    [policy],
    pods.map(policyPodOf).filter((p): p is PolicyPod => p !== null),
    namespaces.map(policyNamespaceOf),
  );
  const spec = policy.spec ?? {};
  const types = spec.policyTypes?.length ? spec.policyTypes : spec.egress?.length ? ['Ingress', 'Egress'] : ['Ingress'];
  const selected = set.podsSelectedBy(key);
  const who = selectorIsEmpty(spec.podSelector)
    ? `every pod in namespace ${ns}`
    : `pods ${selectorText(spec.podSelector)} in namespace ${ns}`;

  const lines = [
    'Explained:',
    `  Selects: ${who} — ${selected.length ? `${selected.length} now: ${names(selected.map((p) => p.name))}` : 'none now'}`,
  ];
  const rules = set.rulesOfPolicy(key);
  for (const dir of [DIR_INGRESS, DIR_EGRESS] as Direction[]) {
    const type = dir === DIR_INGRESS ? 'Ingress' : 'Egress';
    if (!types.includes(type as 'Ingress')) {
      lines.push(
        `  ${type}: not affected — policyTypes has no ${type}: this policy neither isolates nor allows ${type.toLowerCase()}`,
      );
      continue;
    }
    lines.push(
      ...directionLines(
        set,
        dir,
        rules.filter((r) => r.direction === dir),
        ns,
      ),
    );
  }
  const warnings = lintPolicy(policy, set);
  if (warnings.length) lines.push('  Warnings:', ...warnings.map((w) => `    ${w}`));
  return `${lines.join('\n')}\n`;
}

function directionLines(set: PolicySet, dir: Direction, rules: CompiledRule[], ns: string): string[] {
  const ingress = dir === DIR_INGRESS;
  const type = ingress ? 'Ingress' : 'Egress';
  const what = ingress ? 'accept' : 'open';
  if (!rules.length) {
    return [
      `  ${type}: isolated, with no rule — the selected pods ${what} no ${type.toLowerCase()} connection unless another policy selecting them allows it`,
    ];
  }
  const out = [
    `  ${type}: isolated — the selected pods ${what} only what one of these rules (or another policy selecting them) allows:`,
  ];
  for (const r of rules) {
    out.push(
      `    ${type.toLowerCase()}[${r.index}]: ${ruleSpecText(
        dir,
        r.peers.map((p) => p.spec),
        r.ports.map((p) => p.spec),
        ns,
      )}`,
    );
    if (r.allPeers) continue;
    // the pods the peers take in now: where an ORed peer admits more than meant, it shows
    const peers = set.peerPods(r);
    const label = ingress ? 'admits' : 'reaches';
    out.push(
      `      pods it ${label} now: ${peers.length ? names(peers.map((p) => `${p.namespace}/${p.name}`)) : 'none'}`,
    );
  }
  return out;
}

function names(list: string[]): string {
  if (list.length <= MAX_NAMES) return list.join(', ');
  return `${list.slice(0, MAX_NAMES).join(', ')} … and ${list.length - MAX_NAMES} more`;
}
