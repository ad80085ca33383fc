import type { ResourceType } from '../../control/api/index.js';
import { parseResourceArgs } from './args.js';
import type { KubeContext, NamespaceFlags } from './context.js';
import { describeConfigMap, describeNamespace, describeSecret } from './describe-config.js';
import { describeNode } from './describe-node.js';
import {
  describeEndpoints,
  describeEndpointSlice,
  describeIngress,
  describeIngressClass,
  describeNetworkPolicy,
  describeService,
} from './describe-network.js';
import type { Related } from './describe-writer.js';
import {
  describeDeployment,
  describeGeneric,
  describePod,
  describeReplicaSet,
  describeStatefulSet,
} from './describe-workloads.js';
import { errorLine, isNotFound } from './errors.js';
import { noResources } from './get.js';
import { withType } from './output.js';
import { selects } from '../../control/printers/index.js';
import { explainedSection } from '../policy-describe.js';

/**
 * `describe TYPE [NAME_PREFIX…]` / `describe TYPE/NAME`: kubectl's
 * describers, with the object's Events (those whose involvedObject.uid is
 * the object's) at the end. A name that matches no object exactly
 * describes every object whose name starts with it, as kubectl does.
 */
type Obj = Record<string, any>;

export const DESCRIBERS: Record<string, (o: Obj, rel: Related, nowMs: number) => string> = {
  Pod: describePod,
  Node: describeNode,
  Service: describeService,
  Endpoints: describeEndpoints,
  Deployment: describeDeployment,
  ReplicaSet: describeReplicaSet,
  StatefulSet: describeStatefulSet,
  Ingress: describeIngress,
  IngressClass: describeIngressClass,
  EndpointSlice: describeEndpointSlice,
  // kubectl's text, then podwire's plain-words reading of the policy (src/cli/policy-describe.ts)
  NetworkPolicy: (o, rel) =>
    `${describeNetworkPolicy(o)}\n${explainedSection(o, rel.pods ?? [], rel.namespaces ?? [])}`,
  Namespace: describeNamespace,
  ConfigMap: describeConfigMap,
  Secret: describeSecret,
};

/** Kinds whose kubectl describer shows no events. */
const NO_EVENTS = new Set(['Namespace', 'NetworkPolicy', 'Secret']);

export interface DescribeFlags extends NamespaceFlags {
  selector?: string;
  showEvents?: boolean;
}

/** Every pod and namespace, read once per command however many policies it describes (their "Explained:" part). */
const clusters = new WeakMap<KubeContext, Promise<{ pods: Obj[]; namespaces: Obj[] }>>();
function clusterOnce(ctx: KubeContext): Promise<{ pods: Obj[]; namespaces: Obj[] }> {
  let p = clusters.get(ctx);
  if (!p) {
    p = Promise.all([ctx.client.list('pods', {}), ctx.client.list('namespaces', {})]).then(([pods, namespaces]) => ({
      pods: pods.items,
      namespaces: namespaces.items,
    }));
    clusters.set(ctx, p);
  }
  return p;
}

async function related(ctx: KubeContext, r: ResourceType, o: Obj, showEvents: boolean): Promise<Related> {
  const ns = o.metadata.namespace;
  const events =
    showEvents && !NO_EVENTS.has(r.kind)
      ? (await ctx.client.list('events', { namespace: ns, fieldSelector: `involvedObject.uid=${o.metadata.uid}` }))
          .items
      : null;
  const rel: Related = { events };
  if (r.kind === 'Service') {
    const ep = await ctx.client.tryGet('endpoints', ns, o.metadata.name);
    rel.endpoints = ep ? [ep] : [];
  }
  if (r.kind === 'Ingress') {
    rel.services = (await ctx.client.list('services', { namespace: ns })).items;
    rel.endpoints = (await ctx.client.list('endpoints', { namespace: ns })).items;
  }
  if (r.kind === 'Node') {
    rel.pods = (
      await ctx.client.list('pods', {
        fieldSelector: `spec.nodeName=${o.metadata.name},status.phase!=Succeeded,status.phase!=Failed`,
      })
    ).items;
    try {
      rel.lease = {
        lease: await ctx.client.request(
          'GET',
          `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${encodeURIComponent(o.metadata.name)}`,
        ),
      };
    } catch (e) {
      rel.lease = { error: (e as Error).message };
    }
  }
  if (r.kind === 'NetworkPolicy') Object.assign(rel, await clusterOnce(ctx));
  if (r.kind === 'Deployment')
    rel.replicaSets = (await ctx.client.list('replicasets', { namespace: ns })).items.filter((rs) =>
      (rs.metadata.ownerReferences ?? []).some((ref: Obj) => ref.controller && ref.uid === o.metadata.uid),
    );
  if (r.kind === 'StatefulSet' || r.kind === 'Deployment' || r.kind === 'ReplicaSet') {
    rel.pods = (await ctx.client.list('pods', { namespace: ns })).items.filter(
      (p) =>
        selects(o.spec?.selector, p.metadata.labels) &&
        (p.metadata.ownerReferences ?? []).some((ref: Obj) => ref.controller && ref.uid === o.metadata.uid),
    );
  }
  return rel;
}

export async function describe(ctx: KubeContext, args: string[], f: DescribeFlags): Promise<number> {
  const reqs = parseResourceArgs(args, 'describe');
  const errors: unknown[] = [];
  const found: { r: ResourceType; o: Obj }[] = [];
  for (const { r, names } of reqs) {
    const ns = r.namespaced && !f.allNamespaces ? f.namespace : undefined;
    if (!names.length) {
      for (const o of (await ctx.client.list(r, { namespace: ns, labelSelector: f.selector || undefined })).items)
        found.push({ r, o });
      continue;
    }
    for (const n of names) {
      try {
        found.push({ r, o: await ctx.client.get(r, ns, n) });
      } catch (e) {
        if (!isNotFound(e)) throw e;
        const byPrefix = (await ctx.client.list(r, { namespace: ns })).items.filter((o) =>
          o.metadata.name.startsWith(n),
        );
        if (byPrefix.length) byPrefix.forEach((o) => found.push({ r, o }));
        else errors.push(e);
      }
    }
  }
  let first = true;
  for (const { r, o } of found) {
    const text = (DESCRIBERS[r.kind] ?? describeGeneric)(
      withType(r, o),
      await related(ctx, r, o, f.showEvents !== false),
      ctx.now(),
    );
    ctx.out(first ? text : `\n\n${text}`);
    first = false;
  }
  for (const e of errors) ctx.err(`${errorLine(e, ctx.server)}\n`);
  if (!found.length && !errors.length)
    ctx.err(
      noResources(
        f,
        reqs.map((q) => q.r),
      ),
    );
  return errors.length ? 1 : 0;
}
