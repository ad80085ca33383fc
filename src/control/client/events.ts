import { randomBytes } from 'node:crypto';
import type { ApiClient, KubeObject } from './api-client.js';

/**
 * Record a core/v1 Event about an object (what `describe` shows at the
 * bottom). Fire and forget: an event that cannot be written is logged,
 * never allowed to fail the work it reports on.
 */
export function recordEvent(
  client: ApiClient,
  involved: KubeObject,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  source: { component: string; host?: string },
  log: (msg: string) => void = () => {},
): void {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const ns = involved.metadata.namespace ?? 'default';
  const ev = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${involved.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
    involvedObject: {
      apiVersion: involved.apiVersion,
      kind: involved.kind,
      name: involved.metadata.name,
      ...(involved.metadata.namespace ? { namespace: involved.metadata.namespace } : {}),
      uid: involved.metadata.uid,
    },
    reason,
    message,
    source,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    type,
    reportingComponent: source.component,
    reportingInstance: source.host ?? '',
  };
  client.create(ev).catch((e: Error) => log(`event ${reason} for ${involved.metadata.name}: ${e.message}`));
}
