/**
 * The control plane's store: keys to JSON strings, with etcd's revision
 * model (a global revision per write; per key create/mod revision and
 * version), optimistic concurrency, and watch-from-revision. Two backends
 * pass one test suite: the embedded durable file store (default) and etcd.
 */
export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  type: WatchEventType;
  key: string;
  /** the new value; for DELETED, the last value the key had */
  value: string;
  revision: number;
}

export interface Watch {
  close(): void;
}

export interface Store {
  readonly kind: string;
  get(key: string): Promise<KeyValue | null>;
  list(prefix: string): Promise<{ items: KeyValue[]; revision: number }>;
  /** fails with AlreadyExists if the key exists */
  create(key: string, value: string): Promise<KeyValue>;
  /** fails with NotFound, or Conflict when expectedModRevision is given and stale */
  update(key: string, value: string, expectedModRevision?: number): Promise<KeyValue>;
  /** returns the deleted value; NotFound / Conflict as update */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;
  /**
   * Every change under prefix with revision > afterRevision, in order, then
   * live ones. Fails with Compacted when that history is gone (Kubernetes
   * answers 410 Gone: the client lists again).
   */
  watch(
    prefix: string,
    afterRevision: number,
    onEvent: (e: WatchEvent) => void,
    onError?: (err: StoreError) => void,
  ): Promise<Watch>;
  /**
   * Is the store answering? Resolves when it is, fails with Unavailable when
   * it does not answer within `timeoutMs` (what /readyz's etcd check asks).
   */
  health(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export type StoreErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Compacted'
  | 'Corrupt'
  | 'Unavailable'
  /** a value over the store's request limit (etcd's --max-request-bytes, 1.5 MiB by default) */
  | 'TooLarge';

/** etcd's default --max-request-bytes: the largest write it takes (both stores keep to it). */
export const MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}
