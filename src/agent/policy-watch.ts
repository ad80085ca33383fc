import { Informer, type ApiClient, type KubeObject } from '../control/client/index.js';
import type { Pipeline } from '../dataplane/index.js';
import { ipv4ToString } from '../packet/index.js';
import {
  DIR_EGRESS,
  DIR_INGRESS,
  compilePolicies,
  policyNamespaceOf,
  policyOf,
  policyPodOf,
  type PolicyCounters,
  type PolicyPod,
  type PolicySet,
} from '../policy/index.js';

/**
 * The agent's NetworkPolicy informers: every NetworkPolicy, Pod and
 * Namespace of the cluster (peers are selected by labels anywhere), compiled
 * into one PolicySet and swapped into the dataplane. A change recompiles the
 * whole set after a short quiet period (debounceMs, so a burst of 1,000
 * policies costs one compile), well within the second Kubernetes users
 * expect; the swap is one assignment, so a packet sees the old set or the
 * new one, never half of each. Established connections keep their conntrack
 * entries (policy-stage.ts).
 *
 * Only pod changes that matter to policy recompile: labels, IP, phase,
 * named ports (a pod's status updates for probes do not).
 */

export interface PolicyWatchOptions {
  client: ApiClient;
  pipeline: Pipeline;
  node: string;
  log: (msg: string) => void;
  /** quiet period before a recompile (default 20 ms) */
  debounceMs?: number;
}

export interface PolicyStatus {
  policies: {
    name: string;
    selectedPods: number;
    ingressAllowed: number;
    ingressDenied: number;
    egressAllowed: number;
    egressDenied: number;
  }[];
  /** pods of this node that a policy isolates, with how */
  isolatedHere: { pod: string; ip: string; ingress: string[]; egress: string[] }[];
  generation: number;
  compileMs: number;
  /** wall-clock ms when the current set went in */
  appliedAt: number;
}

export class PolicyWatch {
  private readonly policies: Informer;
  private readonly pods: Informer;
  private readonly namespaces: Informer;
  /** per "ns/name", kept across compiles so Prometheus counters only grow */
  readonly counters = new Map<string, PolicyCounters>();
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  generation = 0;
  compileMs = 0;
  appliedAt = 0;

  constructor(private readonly o: PolicyWatchOptions) {
    const err = (what: string) => (m: string) => o.log(`policy watch (${what}): ${m}`);
    this.policies = new Informer(o.client, 'networkpolicies', {}, err('networkpolicies'));
    this.pods = new Informer(o.client, 'pods', {}, err('pods'));
    this.namespaces = new Informer(o.client, 'namespaces', {}, err('namespaces'));
    const changed = () => this.schedule();
    this.policies.on({ added: changed, modified: changed, deleted: changed });
    this.namespaces.on({ added: changed, modified: (n, old) => labelsDiffer(n, old) && changed(), deleted: changed });
    this.pods.on({ added: changed, modified: (p, old) => podChanged(p, old) && changed(), deleted: changed });
  }

  /** Resolves once all three kinds are listed and the first set is in the dataplane. */
  async start(): Promise<void> {
    await Promise.all([this.policies.start(), this.pods.start(), this.namespaces.start()]);
    this.started = true;
    this.compile();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.policies.stop();
    this.pods.stop();
    this.namespaces.stop();
  }

  private schedule(): void {
    if (!this.started || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.compile();
    }, this.o.debounceMs ?? 20);
  }

  private compile(): void {
    const t0 = performance.now();
    let set: PolicySet;
    try {
      const pods = this.pods
        .list()
        .map(policyPodOf)
        .filter((p): p is PolicyPod => p !== null);
      set = compilePolicies(this.policies.list().map(policyOf), pods, this.namespaces.list().map(policyNamespaceOf), {
        counters: this.counters,
      });
    } catch (err) {
      // the API server validated every policy: this is a bug, and the last good set stays
      this.o.log(`policy watch: compile failed, keeping the last set: ${(err as Error).message}`);
      return;
    }
    for (const key of [...this.counters.keys()])
      if (!set.policies.some((p) => p.key === key)) this.counters.delete(key);
    this.o.pipeline.setPolicy(set);
    this.compileMs = performance.now() - t0;
    this.generation++;
    this.appliedAt = Date.now();
  }

  status(): PolicyStatus {
    const set = this.o.pipeline.policy;
    const isolatedHere: PolicyStatus['isolatedHere'] = [];
    if (set) {
      for (const p of set.allPods()) {
        if (p.nodeName !== this.o.node || set.isolation(p.ip) === 0) continue;
        isolatedHere.push({
          pod: `${p.namespace}/${p.name}`,
          ip: ipv4ToString(p.ip),
          ingress: set.isolatedBy(p.ip, DIR_INGRESS).map((i) => i.key),
          egress: set.isolatedBy(p.ip, DIR_EGRESS).map((i) => i.key),
        });
      }
    }
    return {
      policies: (set?.policies ?? []).map((p) => ({ name: p.key, selectedPods: p.selected, ...p.counters })),
      isolatedHere: isolatedHere.sort((a, b) => a.pod.localeCompare(b.pod)),
      generation: this.generation,
      compileMs: Math.round(this.compileMs * 100) / 100,
      appliedAt: this.appliedAt,
    };
  }
}

function labelsDiffer(a: KubeObject, b: KubeObject): boolean {
  return JSON.stringify(a.metadata.labels ?? {}) !== JSON.stringify(b.metadata.labels ?? {});
}

function podChanged(p: KubeObject, old: KubeObject): boolean {
  if (labelsDiffer(p, old)) return true;
  if (
    p.status?.podIP !== old.status?.podIP ||
    p.status?.phase !== old.status?.phase ||
    p.spec?.nodeName !== old.spec?.nodeName
  )
    return true;
  return (
    JSON.stringify(p.spec?.containers?.map((c: { ports?: unknown }) => c.ports)) !==
    JSON.stringify(old.spec?.containers?.map((c: { ports?: unknown }) => c.ports))
  );
}
