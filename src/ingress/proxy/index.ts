/**
 * The ingress proxy engine's public entry (see engine.ts for what it does
 * and why undici).
 *
 *   const proxy = new IngressProxy({ table, onAccess, onError });
 *   await proxy.start();          // binds table.listeners
 *   await proxy.setTable(next);   // swaps routes at once, then adds/removes listeners
 *   await proxy.stop();
 *   proxy.metrics.text()          // Prometheus exposition
 */
export { IngressProxy, type IngressProxyOptions, type EngineEvent } from './engine.js';
export { type AccessEntry, formatAccessLine, nginxTime } from './access-log.js';
export { IngressMetrics } from './metrics.js';
export { REASON_HEADER } from './responses.js';
export type { UpstreamErrorKind } from './upstream-errors.js';
export type { ClientErrorReason } from './listeners.js';
