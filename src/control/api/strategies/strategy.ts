import type { Store } from '../../store/index.js';
import type { Cause } from '../status.js';
import type { KubeObject, Target } from '../object.js';

/**
 * What is special about one kind on create, update and delete — the
 * registry does the generic part (validation, defaults, metadata,
 * optimistic concurrency, storage) and asks its kind's strategy at these
 * points, as Kubernetes' registry strategies (PrepareForCreate,
 * ValidateUpdate, graceful deletion, AfterDelete) do.
 */
export interface Strategy {
  /** What the server sets on a new object, after the registry's metadata (status, mostly). */
  prepareForCreate?(o: KubeObject): void;
  /**
   * Writes of this kind that draw from a shared pool take turns: `turn`
   * runs `fn` after every earlier write of the kind has finished.
   */
  turn?<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Last step before a create (`cur` null) or an update of the main part
   * is stored: allocations, kept or made. Runs inside `turn`.
   */
  beforeWrite?(t: Target, o: KubeObject, cur: KubeObject | null): Promise<KubeObject>;
  /** Rules that compare the update with the object as stored (CRD transition rules); causes make it Invalid. */
  validateUpdate?(cur: KubeObject, next: KubeObject): Omit<Cause, 'reason'>[];
  /**
   * Seconds of grace a DELETE of `cur` gets (the object then gets a
   * deletionTimestamp and stays until its owner deletes it with grace 0),
   * or 0 to delete at once.
   */
  gracePeriodSeconds?(cur: KubeObject, q: URLSearchParams, opts: { gracePeriodSeconds?: unknown }): number;
  /** After a delete (what the object took along with it). */
  afterDelete?(t: Target, o: KubeObject): Promise<void>;
}

/** Everything a strategy may reach: the store it shares with the registry. */
export interface StrategyDeps {
  store: Store;
}
