/** podwire ui: the web view's server (the page itself is src/ui/web/, bundled into dist/ui/). */
export { startUiServer, type UiServer, type UiServerOptions } from './server.js';
export { UiHttpError, type UiContext, type UiRoute, type UiEventName } from './routes.js';
export { LiveSources, type LiveSourcesOptions, type LiveSourcesEvents } from './live-sources.js';
export {
  buildTopology,
  addressBook,
  gatewayOf,
  podRole,
  type TopologyInput,
  type AddressBook,
} from './topology-model.js';
export { FlowAggregator, DropLimiter, flowOf, pathOf, dropOf, flowKey } from './flow-aggregator.js';
export { checkRequest, ownHosts, type RequestFacts, type ServerFacts } from './security.js';
export { resolveStatic, contentTypeOf } from './static-files.js';
export { SseHub, sseMessage } from './sse.js';
export type * from './contract.js';
