import fs from 'node:fs';
import { ApiClient, Informer, type KubeObject } from '../control/client/index.js';
import type { KubernetesPluginOptions } from './corefile-plugins.js';
import { KubernetesZone } from './kubernetes-zone.js';
import type { Logger } from './plugins/log-sink.js';

/**
 * What keeps the kubernetes plugin's zones current: Informers on Services,
 * EndpointSlices, Pods and Namespaces (one set per process, whatever the
 * Corefile says), or a fixture file of objects (tests, `--zone-fixture`).
 * A reload makes new zones (their options may have changed): each new
 * zone is filled from what the feed already holds, then kept current
 * with the others; zones of an old configuration are let go with `keep`.
 */
export interface ZoneFeed {
  zoneFor(opts: KubernetesPluginOptions, localIps: string[]): { zone: KubernetesZone; synced: () => boolean };
  /** only these zones are fed from now on */
  keep(zones: KubernetesZone[]): void;
  synced(): boolean;
  stop(): void;
}

type Kind = 'Service' | 'EndpointSlice' | 'Pod' | 'Namespace';
const KINDS: Record<string, Kind> = {
  services: 'Service',
  endpointslices: 'EndpointSlice',
  pods: 'Pod',
  namespaces: 'Namespace',
};

function apply(zone: KubernetesZone, kind: Kind, obj: KubeObject, deleted: boolean): void {
  switch (kind) {
    case 'Service':
      return deleted ? zone.deleteService(obj) : zone.setService(obj);
    case 'EndpointSlice':
      return deleted ? zone.deleteSlice(obj) : zone.setSlice(obj);
    case 'Pod':
      return deleted ? zone.deletePod(obj) : zone.setPod(obj);
    case 'Namespace':
      return deleted ? zone.deleteNamespace(obj) : zone.setNamespace(obj);
  }
}

function newZone(opts: KubernetesPluginOptions, localIps: string[], synced: boolean): KubernetesZone {
  return new KubernetesZone({
    zones: opts.zones,
    pods: opts.pods,
    ttl: opts.ttl,
    fallthrough: opts.fallthrough,
    endpointPodNames: opts.endpointPodNames,
    noEndpoints: opts.noEndpoints,
    namespaces: opts.namespaces,
    ignoreEmptyService: opts.ignoreEmptyService,
    localIps,
    synced,
  });
}

abstract class BaseFeed implements ZoneFeed {
  protected zones = new Set<KubernetesZone>();
  abstract synced(): boolean;
  protected abstract objects(): [Kind, KubeObject][];

  zoneFor(opts: KubernetesPluginOptions, localIps: string[]) {
    const zone = newZone(opts, localIps, this.synced());
    for (const [kind, obj] of this.objects()) apply(zone, kind, obj, false);
    this.zones.add(zone);
    return { zone, synced: () => this.synced() };
  }

  keep(zones: KubernetesZone[]): void {
    this.zones = new Set(zones);
  }

  protected dispatch(kind: Kind, obj: KubeObject, deleted: boolean): void {
    for (const z of this.zones) apply(z, kind, obj, deleted);
  }

  stop(): void {}
}

/** Objects from the API server through Informers (list, then watch). */
export class InformerFeed extends BaseFeed {
  private readonly informers: [Kind, Informer][];
  private allSynced = false;

  constructor(client: ApiClient, log: Logger) {
    super();
    this.informers = Object.entries(KINDS).map(([plural, kind]) => {
      const inf = new Informer(client, plural, {}, (m) => log.error(`plugin/kubernetes: ${m}`));
      inf.on({
        added: (o) => this.dispatch(kind, o, false),
        modified: (o) => this.dispatch(kind, o, false),
        deleted: (o) => this.dispatch(kind, o, true),
      });
      return [kind, inf];
    });
  }

  /** Resolves when every informer has listed once. */
  async start(): Promise<void> {
    await Promise.all(this.informers.map(([, i]) => i.start()));
    this.allSynced = true;
    for (const z of this.zones) z.markSynced();
  }

  synced(): boolean {
    return this.allSynced;
  }

  protected objects(): [Kind, KubeObject][] {
    return this.informers.flatMap(([kind, i]) => i.list().map((o) => [kind, o] as [Kind, KubeObject]));
  }

  override stop(): void {
    for (const [, i] of this.informers) i.stop();
  }
}

/** Objects from a JSON file: a list (or a List's `items`) of Services, EndpointSlices, Pods, Namespaces. */
export class FixtureFeed extends BaseFeed {
  private readonly objs: [Kind, KubeObject][];

  constructor(objects: KubeObject[]) {
    super();
    this.objs = objects.filter((o) => Object.values(KINDS).includes(o.kind as Kind)).map((o) => [o.kind as Kind, o]);
  }

  static fromFile(path: string): FixtureFeed {
    const parsed = JSON.parse(fs.readFileSync(path, 'utf8'));
    return new FixtureFeed(Array.isArray(parsed) ? parsed : (parsed.items ?? []));
  }

  synced(): boolean {
    return true;
  }

  protected objects(): [Kind, KubeObject][] {
    return this.objs;
  }
}
