import {
  ApiClientError,
  resourceOf,
  type ApiClient,
  type EventRecorder,
  type KubeObject,
} from '../../control/client/index.js';
import { groupVersion } from '../../control/api/index.js';
import type { EventRecord, StatusUpdate } from '../types.js';
import { WATCHED, type ClusterWatch, type WatchedKey } from './cluster-watch.js';
import type { GatewayServicePlan } from './gateway-services.js';
import type { Logger } from './log.js';
import type { ControllerMetrics } from './controller-metrics.js';

/**
 * What the leader writes to the API server: statuses (PUT …/status on the
 * object as last seen — a Conflict means a newer one is on its way through
 * the watch, and the recompile it causes writes again), events, and the
 * Gateways' Services and EndpointSlices. Each write's failure is logged
 * and reported as `false`, so that the controller retries later; none
 * stops the others.
 */
export const EVENT_COMPONENT = 'nginx-ingress-controller';

const KEY_OF_RESOURCE: Record<string, WatchedKey> = {
  ingresses: 'ingresses',
  gateways: 'gateways',
  httproutes: 'httpRoutes',
  gatewayclasses: 'gatewayClasses',
};

const KEY_OF_KIND: Record<string, WatchedKey> = {
  Ingress: 'ingresses',
  Gateway: 'gateways',
  HTTPRoute: 'httpRoutes',
  GatewayClass: 'gatewayClasses',
  IngressClass: 'ingressClasses',
  ReferenceGrant: 'referenceGrants',
  Service: 'services',
  Secret: 'secrets',
  Namespace: 'namespaces',
};

const conflictOrGone = (e: unknown) => e instanceof ApiClientError && (e.status === 409 || e.status === 404);

export async function writeStatuses(
  client: ApiClient,
  watch: ClusterWatch,
  updates: StatusUpdate[],
  log: Logger,
  metrics: ControllerMetrics,
): Promise<boolean> {
  let ok = true;
  for (const u of updates) {
    const key = KEY_OF_RESOURCE[u.resource];
    const cur = key ? watch.get(key, u.namespace, u.name) : undefined;
    if (!cur) continue;
    const r = resourceOf(u.resource);
    try {
      await client.updateStatus({ ...cur, apiVersion: groupVersion(r), kind: r.kind, status: u.status });
      metrics.statusWrites.inc({ resource: u.resource, result: 'ok' });
    } catch (e) {
      metrics.statusWrites.inc({ resource: u.resource, result: conflictOrGone(e) ? 'conflict' : 'error' });
      if (conflictOrGone(e)) continue; // a newer object is coming through the watch
      ok = false;
      log.error(
        `updating status of ${r.kind} ${u.namespace ? `${u.namespace}/` : ''}${u.name}: ${(e as Error).message}`,
        'status.go',
      );
    }
  }
  return ok;
}

export const eventKey = (e: EventRecord): string =>
  [e.kind, e.namespace ?? '', e.name, e.type, e.reason, e.message].join('\u0000');

/** Record the compiler's events not already recorded (`seen`: keys of the last compile's). */
export function recordNewEvents(
  recorder: EventRecorder,
  watch: ClusterWatch,
  events: EventRecord[],
  seen: ReadonlySet<string>,
  host: string,
): void {
  for (const e of events) {
    if (seen.has(eventKey(e))) continue;
    const key = KEY_OF_KIND[e.kind];
    const obj: KubeObject = (key && watch.get(key, e.namespace, e.name)) || {
      kind: e.kind,
      metadata: { name: e.name, ...(e.namespace ? { namespace: e.namespace } : {}) },
    };
    const r = key ? resourceOf(WATCHED[key]) : undefined;
    const involved = r ? { ...obj, apiVersion: groupVersion(r), kind: r.kind } : obj;
    recorder.record(involved, e.type, e.reason, e.message, EVENT_COMPONENT, host);
  }
}

/** Apply a Gateway Service plan: create or put right Services, then slices; delete Services of Gateways gone. */
export async function applyGatewayServices(
  client: ApiClient,
  watch: ClusterWatch,
  plan: GatewayServicePlan,
  log: Logger,
): Promise<boolean> {
  let ok = true;
  const fail = (what: string, e: unknown) => {
    if (conflictOrGone(e)) return;
    ok = false;
    log.error(`${what}: ${(e as Error).message}`, 'gateway.go');
  };
  for (const want of plan.services) {
    const cur = watch.get('services', want.metadata.namespace, want.metadata.name);
    try {
      if (!cur) {
        await client.create(want);
        log.info(
          `created Service ${want.metadata.namespace}/${want.metadata.name} for Gateway ${want.metadata.labels?.[GATEWAY_LABEL]}`,
          'gateway.go',
        );
      } else {
        const spec = { ...cur.spec, type: want.spec.type, ports: mergePorts(cur.spec?.ports ?? [], want.spec.ports) };
        delete spec.selector;
        await client.update({
          ...cur,
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { ...cur.metadata, labels: want.metadata.labels },
          spec,
        });
      }
    } catch (e) {
      fail(`Service ${want.metadata.namespace}/${want.metadata.name}`, e);
    }
  }
  for (const want of plan.slices) {
    const cur = watch.get('endpointSlices', want.metadata.namespace, want.metadata.name);
    try {
      if (!cur) await client.create(want);
      else
        await client.update({
          ...want,
          metadata: { ...cur.metadata, labels: want.metadata.labels, ownerReferences: want.metadata.ownerReferences },
        });
    } catch (e) {
      fail(`EndpointSlice ${want.metadata.namespace}/${want.metadata.name}`, e);
    }
  }
  for (const s of plan.deleteServices) {
    try {
      await client.delete('services', s.metadata.namespace, s.metadata.name, { uid: s.metadata.uid });
      log.info(`deleted Service ${s.metadata.namespace}/${s.metadata.name}: its Gateway is gone`, 'gateway.go');
    } catch (e) {
      fail(`deleting Service ${s.metadata.namespace}/${s.metadata.name}`, e);
    }
  }
  return ok;
}

const GATEWAY_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** Our ports, keeping the node ports the API server allocated for the ones that stay. */
function mergePorts(cur: KubeObject[], want: KubeObject[]): KubeObject[] {
  return want.map((p) => {
    const old = cur.find((c) => c.port === p.port && (c.protocol ?? 'TCP') === p.protocol);
    return old?.nodePort ? { ...p, nodePort: old.nodePort } : p;
  });
}
