import type { ApiClient, KubeObject } from './api-client.js';
import { isoTime } from '../time.js';

/**
 * core/v1 Events (what `kubectl describe` lists at the bottom), for the
 * controllers and the agents' kubelet alike. Fire and forget: writing an
 * event never blocks or fails the work it reports on; a failure is logged.
 *
 * Names are `<involved name>.<16 hex digits>` (the nanosecond clock in hex,
 * as client-go's recorder names them). Node events, like upstream's, live
 * in the "default" namespace.
 */
export type EventType = 'Normal' | 'Warning';

let seq = 0;
function eventName(involvedName: string, nowMs: number): string {
  seq = (seq + 1) % 1_000_000;
  return `${involvedName}.${(BigInt(nowMs) * 1_000_000n + BigInt(seq)).toString(16).padStart(16, '0')}`;
}

/** `host`: the node a kubelet reports from (source.host, reportingInstance). */
export function eventObject(
  involved: KubeObject,
  type: EventType,
  reason: string,
  message: string,
  component: string,
  nowMs: number,
  host?: string,
): KubeObject {
  const ts = isoTime(nowMs);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: eventName(involved.metadata.name, nowMs), namespace: involved.metadata.namespace ?? 'default' },
    involvedObject: {
      ...(involved.apiVersion ? { apiVersion: involved.apiVersion } : {}),
      ...(involved.kind ? { kind: involved.kind } : {}),
      name: involved.metadata.name,
      ...(involved.metadata.namespace ? { namespace: involved.metadata.namespace } : {}),
      ...(involved.metadata.uid ? { uid: involved.metadata.uid } : {}),
      ...(involved.metadata.resourceVersion ? { resourceVersion: involved.metadata.resourceVersion } : {}),
    },
    reason,
    message,
    source: host ? { component, host } : { component },
    firstTimestamp: ts,
    lastTimestamp: ts,
    count: 1,
    type,
    reportingComponent: component,
    reportingInstance: host ?? '',
  };
}

/** One event, written in the background. */
export function recordEvent(
  client: ApiClient,
  involved: KubeObject,
  type: EventType,
  reason: string,
  message: string,
  component: string,
  log: (msg: string) => void = () => {},
  nowMs = Date.now(),
  host?: string,
): void {
  client
    .create(eventObject(involved, type, reason, message, component, nowMs, host))
    .catch((e: Error) => log(`event ${reason} on ${involved.metadata.name}: ${e.message}`));
}

interface Series {
  name: string;
  namespace: string;
  count: number;
  atMs: number;
  chain: Promise<void>;
}

/**
 * recordEvent with client-go's correlator in small: the same event (same
 * object, component, type, reason and message) again within ten minutes
 * bumps `count` and `lastTimestamp` of the existing Event instead of
 * writing a new one, so a pod retried every few seconds has one
 * FailedScheduling event with a count, not hundreds.
 */
export class EventRecorder {
  private readonly series = new Map<string, Series>();
  static readonly WINDOW_MS = 10 * 60_000;
  static readonly MAX_SERIES = 4096;

  constructor(
    private readonly client: ApiClient,
    private readonly log: (msg: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  record(
    involved: KubeObject,
    type: EventType,
    reason: string,
    message: string,
    component: string,
    host?: string,
  ): void {
    const m = involved.metadata;
    const key = [component, involved.kind, m.namespace ?? '', m.name, m.uid ?? '', type, reason, message].join(
      '\u0000',
    );
    const nowMs = this.now();
    const fail = (e: Error) => this.log(`event ${reason} on ${m.name}: ${e.message}`);
    const prev = this.series.get(key);
    if (prev && nowMs - prev.atMs < EventRecorder.WINDOW_MS) {
      prev.count++;
      prev.atMs = nowMs;
      const count = prev.count;
      prev.chain = prev.chain
        .then(async () => {
          try {
            await this.client.patch('events', prev.namespace, prev.name, { count, lastTimestamp: isoTime(nowMs) });
          } catch (e) {
            if ((e as { status?: number }).status !== 404) throw e;
            const ev = eventObject(involved, type, reason, message, component, nowMs, host);
            prev.name = ev.metadata.name;
            await this.client.create(ev);
          }
        })
        .catch(fail);
      return;
    }
    const ev = eventObject(involved, type, reason, message, component, nowMs, host);
    this.series.delete(key);
    this.series.set(key, {
      name: ev.metadata.name,
      namespace: ev.metadata.namespace!,
      count: 1,
      atMs: nowMs,
      chain: this.client.create(ev).then(() => undefined, fail),
    });
    if (this.series.size > EventRecorder.MAX_SERIES) this.series.delete(this.series.keys().next().value!);
  }
}
