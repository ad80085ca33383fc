import type { ApiClient } from '../client/api-client.js';
import type { Informer } from '../client/informer.js';
import type { EventRecorder } from './events.js';
import { malformedReason, type KubeObject } from './objects.js';

/**
 * What every controller runner gets: the client, the shared informers
 * (their caches are the controllers' view of the world), the event
 * recorder, the clock and the log.
 */
export interface Informers {
  nodes: Informer;
  pods: Informer;
  services: Informer;
  endpoints: Informer;
  slices: Informer;
  deployments: Informer;
  replicasets: Informer;
  statefulsets: Informer;
}

export interface Ctx {
  client: ApiClient;
  inf: Informers;
  events: EventRecorder;
  now: () => number;
  log: (msg: string) => void;
  /** the objects of an informer that can be reasoned about (malformed ones are logged once and skipped) */
  usable(inf: Informer): KubeObject[];
}

/** Ctx.usable: filter out malformed objects, reporting each version of one once. */
export function usableFilter(log: (msg: string) => void): (inf: Informer) => KubeObject[] {
  const reported = new Set<string>();
  return (inf) =>
    inf.list().filter((o) => {
      const why = malformedReason(o);
      if (!why) return true;
      const k = `${o?.metadata?.uid}/${o?.metadata?.resourceVersion}`;
      if (!reported.has(k)) {
        if (reported.size > 10_000) reported.clear();
        reported.add(k);
        log(
          `skipping ${inf.resource.kind} ${o?.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o?.metadata?.name}: ${why}`,
        );
      }
      return false;
    });
}

export interface Runner {
  /** queue everything once (after the caches are synced) */
  resync(): void;
  stop(): void;
}

const statusOf = (e: unknown) => (e as { status?: number })?.status;
export const isNotFound = (e: unknown) => statusOf(e) === 404;
/** 409: Conflict (stale resourceVersion) or AlreadyExists */
export const isConflict = (e: unknown) => statusOf(e) === 409;

/** Run `fn` over `items`, at most `limit` at a time; the first error is thrown after all settle. */
export async function inParallel<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstErr: unknown;
  const worker = async () => {
    while (next < items.length) {
      const t = items[next++];
      try {
        await fn(t);
      } catch (e) {
        firstErr ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstErr !== undefined) throw firstErr;
}

/**
 * client-go's ControllerExpectations: after a controller creates or deletes
 * objects, it waits until its cache shows those changes before deciding
 * again — otherwise a sync that runs before the watch delivers the new pods
 * would create them a second time. Expectations expire (a lost event must
 * not wedge a controller forever).
 */
export class Expectations {
  private readonly m = new Map<string, { adds: Set<string>; dels: Set<string>; atMs: number }>();
  static readonly TTL_MS = 30_000;

  expect(key: string, adds: string[], dels: string[], nowMs: number): void {
    if (!adds.length && !dels.length) return;
    const e = this.m.get(key) ?? { adds: new Set<string>(), dels: new Set<string>(), atMs: nowMs };
    for (const a of adds) e.adds.add(a);
    for (const d of dels) e.dels.add(d);
    e.atMs = nowMs;
    this.m.set(key, e);
  }

  /** A create or delete that failed: do not wait for it. */
  forget(key: string, name: string): void {
    const e = this.m.get(key);
    e?.adds.delete(name);
    e?.dels.delete(name);
  }

  /** Does the cache (`present`) show every expected change? Clears them when it does. */
  satisfied(key: string, present: (name: string) => KubeObject | undefined, nowMs: number): boolean {
    const e = this.m.get(key);
    if (!e) return true;
    for (const a of [...e.adds]) if (present(a)) e.adds.delete(a);
    // a delete is observed once the pod is gone or Terminating (upstream: DeletionObserved on a deletionTimestamp)
    for (const d of [...e.dels]) if (!present(d) || present(d)!.metadata.deletionTimestamp) e.dels.delete(d);
    if ((!e.adds.size && !e.dels.size) || nowMs - e.atMs > Expectations.TTL_MS) {
      this.m.delete(key);
      return true;
    }
    return false;
  }

  clear(key: string): void {
    this.m.delete(key);
  }
}

/** Pods of one namespace from the cache. */
export function podsIn(ctx: Ctx, namespace: string | undefined): KubeObject[] {
  return ctx.usable(ctx.inf.pods).filter((p) => p.metadata.namespace === namespace);
}

export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}
