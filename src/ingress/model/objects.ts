/**
 * The cluster's objects as the routing model reads them: looked up by
 * namespace/name, ordered by age. Everything here is pure and total — a
 * malformed object reads as "missing", never as an exception.
 */
import type { ClusterObjects, EventRecord, Obj } from '../types.js';

export const nsOf = (o: Obj): string =>
  (typeof o?.metadata?.namespace === 'string' && o.metadata.namespace) || 'default';
export const nameOf = (o: Obj): string => String(o?.metadata?.name ?? '');
/** "namespace/name", the way kubectl and the API's keys write it. */
export const keyOf = (o: Obj): string => `${nsOf(o)}/${nameOf(o)}`;

/** creationTimestamp in ms; a missing one reads as the epoch (Go's zero time sorts first too). */
export function createdMs(o: Obj): number {
  const t = Date.parse(o?.metadata?.creationTimestamp ?? '');
  return Number.isFinite(t) ? t : 0;
}

/**
 * Oldest first, as ingress-nginx sorts Ingresses (store.sortIngressSlice): on
 * equal timestamps it puts "namespace/name" in *descending* order — odd, but
 * that is which Ingress wins a conflicting path there, so we follow it.
 */
export function ingressAgeOrder(a: Obj, b: Obj): number {
  const d = createdMs(a) - createdMs(b);
  if (d !== 0) return d;
  const ka = keyOf(a);
  const kb = keyOf(b);
  return ka === kb ? 0 : ka > kb ? -1 : 1;
}

/** Oldest first, then "namespace/name" alphabetically: the Gateway API's tie-break for Routes. */
export function gatewayAgeOrder(a: Obj, b: Obj): number {
  const d = createdMs(a) - createdMs(b);
  if (d !== 0) return d;
  const ka = keyOf(a);
  const kb = keyOf(b);
  return ka === kb ? 0 : ka < kb ? -1 : 1;
}

export const asArray = <T = Obj>(v: unknown): T[] =>
  Array.isArray(v) ? (v.filter((x) => x !== null && x !== undefined) as T[]) : [];

/** Services, Secrets and Namespaces by key, built once per compile. */
export class ObjectIndex {
  private readonly services = new Map<string, Obj>();
  private readonly secrets = new Map<string, Obj>();
  private readonly namespaces = new Map<string, Obj>();

  constructor(objects: ClusterObjects) {
    for (const s of asArray(objects.services)) this.services.set(keyOf(s), s);
    for (const s of asArray(objects.secrets)) this.secrets.set(keyOf(s), s);
    for (const n of asArray(objects.namespaces)) this.namespaces.set(nameOf(n), n);
  }

  service(ns: string, name: string): Obj | undefined {
    return this.services.get(`${ns}/${name}`);
  }

  secret(ns: string, name: string): Obj | undefined {
    return this.secrets.get(`${ns}/${name}`);
  }

  /** A namespace's labels; Kubernetes also gives every namespace kubernetes.io/metadata.name. */
  namespaceLabels(ns: string): Record<string, string> {
    const labels = this.namespaces.get(ns)?.metadata?.labels ?? {};
    return { 'kubernetes.io/metadata.name': ns, ...labels };
  }
}

/** Events for one compile: one record per object, reason and message, in the order they were raised. */
export class EventSink {
  readonly events: EventRecord[] = [];
  private readonly seen = new Set<string>();

  add(kind: string, obj: Obj, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const key = `${kind}|${keyOf(obj)}|${reason}|${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.events.push({ kind, namespace: nsOf(obj), name: nameOf(obj), type, reason, message });
  }
}
