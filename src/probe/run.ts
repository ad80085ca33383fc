/**
 * `podwire probe`, end to end: read pods, namespaces, NetworkPolicies (and
 * Services) from the API server, compile the policy model, plan the
 * probes, run ONE prober per source pod (all its targets at once) inside
 * the pod — a few sources at a time — and set what they saw beside what
 * the model expects.
 */
import fs from 'node:fs';
import type { ApiClient, KubeObject } from '../control/client/index.js';
import { matches, parseSelector } from '../control/index.js';
import { packagePath, type CommandRunner } from '../host/index.js';
import { execCommand, labPods, podExecEntry, type LabState } from '../lab/index.js';
import { compilePolicies, policyNamespaceOf, policyOf, policyPodOf, type PolicyPod } from '../policy/index.js';
import { assembleMatrix, type ProbeMatrix, type SourceOutcome } from './matrix.js';
import { planProbes, podKey, type ProbePlan, type ProbeProtocol, type ServiceLite, type TargetMode } from './plan.js';
import type { ProberInput, ProberOutput, ProbeResult } from './wire.js';

/** dist/probe/prober-main.js, also when this module runs from src/ (tests) */
export const PROBER = packagePath('dist', 'probe', 'prober-main.js');

export interface ProbeOptions {
  /** only this namespace (default: every namespace but kube-system) */
  namespace?: string;
  /** every namespace, kube-system too */
  allNamespaces?: boolean;
  /** a label selector, as kubectl's -l */
  selector?: string;
  ports: number[];
  protocols: (ProbeProtocol | 'sctp')[];
  to: TargetMode;
  timeoutMs: number;
  /** source pods probing at once */
  parallel: number;
  clusterDomain?: string;
}

export interface ProbeDeps {
  api: ApiClient;
  state: LabState;
  /** the host seam: runs each prober's nsenter argv */
  runner: CommandRunner;
  /** default: /proc/net/sctp exists (the kernel's SCTP module is loaded) */
  kernelHasSctp?: () => boolean;
}

export class ProbeError extends Error {
  override readonly name = 'ProbeError';
  constructor(
    readonly code: 'ERR_NO_PODS' | 'ERR_BAD_OPTION',
    message: string,
  ) {
    super(message);
  }
}

const inScope = (o: ProbeOptions, ns: string) =>
  o.namespace ? ns === o.namespace : o.allNamespaces || ns !== 'kube-system';

export async function probe(deps: ProbeDeps, opts: ProbeOptions): Promise<ProbeMatrix> {
  const notes: string[] = [];
  const protocols = opts.protocols.filter((p): p is ProbeProtocol => p !== 'sctp');
  if (opts.protocols.includes('sctp')) {
    const has = (deps.kernelHasSctp ?? (() => fs.existsSync('/proc/net/sctp')))();
    notes.push(
      `SCTP: not probed: ${has ? 'the kernel has SCTP, but the prober cannot open SCTP sockets (Node has none)' : 'the kernel has no SCTP (no /proc/net/sctp)'}`,
    );
  }
  const [podList, nsList, npList, svcList] = await Promise.all([
    deps.api.list('pods'),
    deps.api.list('namespaces'),
    deps.api.list('networkpolicies'),
    opts.to === 'pods' ? Promise.resolve({ items: [] as KubeObject[] }) : deps.api.list('services'),
  ]);
  const modelPods = podList.items.map(policyPodOf).filter((p): p is PolicyPod => p !== null);
  const set = compilePolicies(npList.items.map(policyOf), modelPods, nsList.items.map(policyNamespaceOf));

  const reqs = opts.selector ? parseSelector(opts.selector) : [];
  const chosen: PolicyPod[] = [];
  for (const obj of podList.items) {
    const ns = obj.metadata.namespace ?? 'default';
    if (!inScope(opts, ns) || !matches(reqs, obj.metadata.labels)) continue;
    const p = policyPodOf(obj);
    const phase = obj.status?.phase ?? 'Pending';
    if (p && phase === 'Running' && !obj.metadata.deletionTimestamp) chosen.push(p);
    else if (!obj.spec?.hostNetwork)
      notes.push(
        `left out: ${ns}/${obj.metadata.name} (${obj.metadata.deletionTimestamp ? 'terminating' : phase}${obj.status?.podIP ? '' : ', no IP'})`,
      );
  }
  if (!chosen.length)
    throw new ProbeError(
      'ERR_NO_PODS',
      `no running pods to probe${opts.namespace ? ` in namespace ${opts.namespace}` : ''}${opts.selector ? ` matching ${opts.selector}` : ''}`,
    );

  const plan = planProbes({
    pods: chosen,
    ports: opts.ports,
    protocols,
    to: opts.to,
    services: svcList.items.map(serviceOf),
    allPods: modelPods,
    clusterDomain: opts.clusterDomain,
  });
  const outcomes = protocols.length && opts.ports.length ? await runSources(deps, plan, opts) : [];
  return assembleMatrix(plan, set, outcomes, notes);
}

function serviceOf(s: KubeObject): ServiceLite {
  return {
    namespace: s.metadata.namespace ?? 'default',
    name: s.metadata.name,
    type: s.spec?.type,
    clusterIP: s.spec?.clusterIP,
    selector: s.spec?.selector,
    ports: s.spec?.ports ?? [],
  };
}

/** Every source pod's prober, `parallel` at a time; a pod that cannot be entered is an outcome too. */
async function runSources(deps: ProbeDeps, plan: ProbePlan, opts: ProbeOptions): Promise<SourceOutcome[]> {
  const records = await labPods(deps.state);
  const outcomes: SourceOutcome[] = new Array(plan.pods.length);
  let next = 0;
  const worker = async () => {
    while (next < plan.pods.length) {
      const i = next++;
      outcomes[i] = await runSource(deps, plan.pods[i], plan.probes[i], opts, records);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.parallel, plan.pods.length)) }, worker));
  return outcomes;
}

async function runSource(
  deps: ProbeDeps,
  pod: PolicyPod,
  probes: ProbePlan['probes'][number],
  opts: ProbeOptions,
  records: Awaited<ReturnType<typeof labPods>>,
): Promise<SourceOutcome> {
  if (!probes.length) return { results: new Map() };
  const rec = records.find(
    (r) => (r.namespace ?? 'default') === pod.namespace && (r.name === pod.name || r.name === podKey(pod)),
  );
  if (!rec) return { error: `no agent of lab ${deps.state.plan.prefix} runs ${podKey(pod)}` };
  try {
    const entry = await podExecEntry(deps.state, rec.netns);
    const input: ProberInput = { timeoutMs: opts.timeoutMs, probes };
    // a name may take the resolver's own timeouts (5 s × 2 attempts) before the probe's
    const r = await deps.runner.run(execCommand(entry, pod.name, [process.execPath, PROBER]), {
      input: JSON.stringify(input),
      allowFailure: true,
      timeoutMs: opts.timeoutMs + 30_000,
    });
    const last = r.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop();
    if (r.exitCode !== 0 || !last)
      return {
        error: `the prober in ${podKey(pod)} failed (exit ${r.exitCode}): ${(r.stderr.trim() || r.stdout.trim()).slice(0, 300)}`,
      };
    const out = JSON.parse(last) as ProberOutput;
    return {
      results: new Map(
        out.results.map((x): [string, ProbeResult] => [
          x.id,
          { observed: x.observed, detail: x.detail, ...(x.ms !== undefined ? { ms: x.ms } : {}) },
        ]),
      ),
    };
  } catch (e) {
    return { error: `could not probe from ${podKey(pod)}: ${(e as Error).message}` };
  }
}
