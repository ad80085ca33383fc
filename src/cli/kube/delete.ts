import type { ResourceType } from '../../control/api/index.js';
import { parseManifests, readManifests } from '../../control/client/index.js';
import { parseResourceArgs } from './args.js';
import type { KubeContext, NamespaceFlags } from './context.js';
import { errorLine, isNotFound, KubeError } from './errors.js';
import { kindName } from './output.js';

/**
 * `delete TYPE NAME…` / `delete TYPE/NAME…` / `delete TYPE --all|-l SEL` /
 * `delete -f FILE`: `pod "web-1" deleted` per object (kubectl 1.30's text);
 * a missing one is `Error from server (NotFound): …` and exit 1, the rest
 * are still deleted.
 */
export interface DeleteFlags extends NamespaceFlags {
  filename?: string[];
  all?: boolean;
  selector?: string;
  fieldSelector?: string;
  ignoreNotFound?: boolean;
  /** seconds; 0 with --force deletes a pod at once, even if its node is gone */
  gracePeriod?: string;
  force?: boolean;
  now?: boolean;
  /** 'false': do not wait for terminating objects to go */
  wait?: string;
}

/**
 * kubectl's rules: --now is --grace-period=1; --force needs --grace-period=0
 * (kubectl 1.30 takes --force alone as 0 too, with a warning).
 */
function gracePeriodOf(f: DeleteFlags): number | undefined {
  if (f.gracePeriod !== undefined) {
    const n = Number(f.gracePeriod);
    if (!Number.isInteger(n)) throw new KubeError(`invalid argument "${f.gracePeriod}" for "--grace-period" flag`);
    if (n >= 0) return n;
  }
  if (f.now) return 1;
  if (f.force) return 0;
  return undefined;
}

interface Target {
  r: ResourceType;
  namespace?: string;
  name: string;
  source?: string;
}

export async function del(ctx: KubeContext, args: string[], f: DeleteFlags): Promise<number> {
  const targets: Target[] = [];
  let listed = false;
  if (f.filename?.length) {
    if (args.length)
      throw new KubeError(
        'when paths, URLs, or stdin is provided as input, you may not specify resource arguments as well',
      );
    const { docs, problems } = parseManifests(readManifests(f.filename), f.namespace);
    if (problems.length) throw new KubeError(problems.join('\nerror: '));
    for (const d of docs) targets.push({ r: d.r, namespace: d.namespace, name: d.obj.metadata.name, source: d.source });
  } else {
    const reqs = parseResourceArgs(args, 'delete');
    for (const { r, names } of reqs) {
      const ns = r.namespaced && !f.allNamespaces ? f.namespace : undefined;
      if (names.length) {
        if (f.all || f.selector) throw new KubeError('name cannot be provided when a selector is specified');
        for (const name of names) targets.push({ r, namespace: ns, name });
        continue;
      }
      if (!f.all && !f.selector && !f.fieldSelector)
        throw new KubeError('resource(s) were provided, but no name was specified');
      listed = true;
      const items = (
        await ctx.client.list(r, {
          namespace: ns,
          labelSelector: f.selector || undefined,
          fieldSelector: f.fieldSelector || undefined,
        })
      ).items;
      for (const o of items) targets.push({ r, namespace: o.metadata.namespace, name: o.metadata.name });
    }
  }
  if (!targets.length && listed) {
    ctx.out('No resources found\n');
    return 0;
  }
  let failed = false;
  const grace = gracePeriodOf(f);
  if (f.force && grace === 0)
    ctx.err(
      'Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n',
    );
  const terminating: Target[] = [];
  for (const t of targets) {
    try {
      const res = await ctx.client.delete(
        t.r,
        t.namespace,
        t.name,
        grace === undefined ? {} : { gracePeriodSeconds: grace },
      );
      ctx.out(`${kindName(t.r)} "${t.name}" ${grace === 0 && f.force ? 'force deleted' : 'deleted'}\n`);
      if (res?.metadata?.deletionTimestamp) terminating.push(t);
    } catch (e) {
      if (isNotFound(e) && f.ignoreNotFound) continue;
      failed = true;
      const line = errorLine(e, ctx.server);
      ctx.err(
        `${t.source ? line.replace(/^(Error from server \([^)]*\): )/, `$1error when deleting "${t.source}": `) : line}\n`,
      );
    }
  }
  // As kubectl (--wait=true): return once what was deleted is really gone.
  if (f.wait !== 'false') {
    const deadline = Date.now() + 60_000;
    for (const t of terminating) {
      while ((await ctx.client.tryGet(t.r, t.namespace, t.name)) !== null) {
        if (Date.now() > deadline) {
          ctx.err(
            `error: timed out waiting for the condition on ${t.r.plural}/${t.name} (is its node's agent running? --force --grace-period=0 deletes it at once)\n`,
          );
          return 1;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  return failed ? 1 : 0;
}
