import { Informer, type ApiClient, type KubeObject } from '../../control/client/index.js';
import type { ClusterObjects } from '../types.js';

/**
 * What the controller watches, one Informer per kind (client-go's shared
 * informers in small), and a debounced "something changed" signal: a
 * burst of events — `kubectl apply -f` of ten objects, the controller's
 * own status writes coming back — becomes one recompile ~50 ms after the
 * last of them, as ingress-nginx batches its syncs.
 *
 * EndpointSlices are watched although the routes do not name pods (the
 * proxy connects to ClusterIPs): a Service losing its last endpoint is a
 * change the compiler may report (503 "no endpoints"), and the Gateway
 * Services' slices are ours to keep (gateway-services.ts).
 */
export const DEBOUNCE_MS = 50;

export const WATCHED = {
  ingresses: 'ingresses',
  ingressClasses: 'ingressclasses',
  gatewayClasses: 'gatewayclasses',
  gateways: 'gateways',
  httpRoutes: 'httproutes',
  referenceGrants: 'referencegrants',
  services: 'services',
  secrets: 'secrets',
  namespaces: 'namespaces',
  endpointSlices: 'endpointslices',
} as const;
export type WatchedKey = keyof typeof WATCHED;

export interface ClusterWatchOptions {
  /** --watch-namespace: Ingresses of this namespace only ('' = all) */
  ingressNamespace?: string;
  /** the controller's own pods (leader choice): namespace and label selector */
  pods?: { namespace: string; labelSelector: string };
  onError?: (msg: string) => void;
  debounceMs?: number;
}

export class ClusterWatch {
  readonly informers = new Map<WatchedKey, Informer>();
  readonly pods: Informer | null;
  private timer: NodeJS.Timeout | null = null;
  private listeners: (() => void)[] = [];
  private started = false;

  constructor(
    client: ApiClient,
    private readonly o: ClusterWatchOptions = {},
  ) {
    const err = o.onError ?? (() => {});
    for (const [key, resource] of Object.entries(WATCHED) as [WatchedKey, string][]) {
      const namespace = key === 'ingresses' && o.ingressNamespace ? o.ingressNamespace : undefined;
      this.informers.set(key, this.watch(new Informer(client, resource, namespace ? { namespace } : {}, err)));
    }
    this.pods = o.pods
      ? this.watch(
          new Informer(client, 'pods', { namespace: o.pods.namespace, labelSelector: o.pods.labelSelector }, err),
        )
      : null;
  }

  private watch(inf: Informer): Informer {
    const poke = () => this.changed();
    return inf.on({ added: poke, modified: poke, deleted: poke });
  }

  /** Called (debounced) after changes; only once start() has synced everything. */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** Resolves when every kind has been listed once. */
  async start(): Promise<void> {
    await Promise.all([...this.informers.values(), ...(this.pods ? [this.pods] : [])].map((i) => i.start()));
    this.started = true;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const i of this.informers.values()) i.stop();
    this.pods?.stop();
  }

  private changed(): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      for (const l of this.listeners) l();
    }, this.o.debounceMs ?? DEBOUNCE_MS);
    this.timer.unref?.();
  }

  list(key: WatchedKey): KubeObject[] {
    return this.informers.get(key)!.list();
  }

  get(key: WatchedKey, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.informers.get(key)!.get(namespace, name);
  }

  /** The compiler's input: every list, sorted by key so that two replicas compile alike. */
  snapshot(): ClusterObjects & { endpointSlices: KubeObject[] } {
    const l = (k: WatchedKey) => sortByKey(this.list(k));
    return {
      ingresses: l('ingresses'),
      ingressClasses: l('ingressClasses'),
      gatewayClasses: l('gatewayClasses'),
      gateways: l('gateways'),
      httpRoutes: l('httpRoutes'),
      referenceGrants: l('referenceGrants'),
      services: l('services'),
      secrets: l('secrets').filter((s) => s.type === 'kubernetes.io/tls'),
      namespaces: l('namespaces'),
      endpointSlices: l('endpointSlices'),
    };
  }
}

const key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
function sortByKey(xs: KubeObject[]): KubeObject[] {
  return xs.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
