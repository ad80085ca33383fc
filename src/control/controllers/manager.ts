import type { ApiClient } from '../client/api-client.js';
import { Informer } from '../client/informer.js';
import { EventRecorder } from './events.js';
import { startEndpoints } from './run-endpoints.js';
import { startGarbageCollector } from './run-gc.js';
import { startEndpointSliceMirroring } from './run-mirroring.js';
import { startIpam, startNodeLifecycle } from './run-nodes.js';
import { startScheduler } from './run-scheduler.js';
import { startTaintEviction } from './run-taint-eviction.js';
import { startPodGc } from './run-podgc.js';
import { startDeployments, startReplicaSets, startStatefulSets } from './run-workloads.js';
import { usableFilter, type Ctx, type Informers, type Runner } from './runtime.js';
import { planPodCidrs } from './ipam.js';
import { startServiceAccounts } from './run-serviceaccounts.js';

/**
 * kube-controller-manager and kube-scheduler in miniature, as clients of
 * the API server: node IPAM, node lifecycle (taints included), taint
 * eviction, pod GC, the scheduler, Deployments,
 * ReplicaSets, StatefulSets, Endpoints and EndpointSlices, garbage collection,
 * ServiceAccounts (`default` in every namespace).
 *
 * They run in the API server's process and reach it over its Unix socket as
 * system:admin (system:masters) — where kube-controller-manager has its own
 * client certificate and RBAC roles (system:kube-controller-manager and a
 * ServiceAccount per controller), podwire's controllers share the local
 * channel's identity: one process, one trust boundary.
 *
 * Every controller is level-triggered: informers keep a cache of the
 * objects, changes put keys on a controller's work queue, and a sync
 * recomputes the whole desired state of that key from the caches (the
 * decision logic lives in pure modules) and writes only the difference.
 */
export interface ControllerOptions {
  /** pod addresses, e.g. '10.244.0.0/16' */
  clusterCidr: string;
  /** each node's slice of it, e.g. 24 */
  nodeCidrMaskSize: number;
  /** a node silent this long gets Ready=Unknown (Kubernetes: 40 s; podwire's default 10 s) */
  nodeMonitorGracePeriodMs: number;
  /** PodGC waits this long before it force-deletes the pods of a deleted Node (Kubernetes: 40 s) */
  podGcOrphanQuarantineMs?: number;
  log: (msg: string) => void;
  /** the clock (tests) */
  now?: () => number;
}

export async function startControllers(client: ApiClient, opts: ControllerOptions): Promise<{ stop(): void }> {
  const log = opts.log;
  // A bad CIDR or mask is a start-up error, not a retry loop.
  planPodCidrs([], { clusterCidr: opts.clusterCidr, nodeCidrMaskSize: opts.nodeCidrMaskSize });
  const mk = (resource: string) => new Informer(client, resource, {}, (m) => log(`informer: ${m}`));
  const inf: Informers = {
    nodes: mk('nodes'),
    pods: mk('pods'),
    services: mk('services'),
    endpoints: mk('endpoints'),
    slices: mk('endpointslices'),
    deployments: mk('deployments'),
    replicasets: mk('replicasets'),
    statefulsets: mk('statefulsets'),
  };
  const all = Object.values(inf);
  // Caches first: no controller may decide on a half-listed world.
  await Promise.all(all.map((i) => i.start()));
  const now = opts.now ?? Date.now;
  const ctx: Ctx = {
    client,
    inf,
    now,
    log,
    events: new EventRecorder(client, (m) => log(m), now),
    usable: usableFilter(log),
  };
  const serviceAccounts = await startServiceAccounts(client, (m) => log(`serviceaccounts: ${m}`));
  const runners: Runner[] = [
    serviceAccounts,
    startIpam(ctx, { clusterCidr: opts.clusterCidr, nodeCidrMaskSize: opts.nodeCidrMaskSize }),
    startNodeLifecycle(ctx, opts.nodeMonitorGracePeriodMs),
    startTaintEviction(ctx),
    startPodGc(ctx, opts.podGcOrphanQuarantineMs ?? 40_000),
    startScheduler(ctx),
    startDeployments(ctx),
    startReplicaSets(ctx),
    startStatefulSets(ctx),
    startEndpoints(ctx),
    startEndpointSliceMirroring(ctx),
    startGarbageCollector(ctx),
  ];
  for (const r of runners) r.resync();
  return {
    stop() {
      for (const r of runners) r.stop();
      for (const i of all) i.stop();
    },
  };
}
