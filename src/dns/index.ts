/**
 * Cluster DNS: the public entry of src/dns (see types.ts for the parts).
 */
export * from './types.js';
export { parseCorefile, IMPLEMENTED_PLUGINS } from './corefile.js';
export { pluginOptions } from './corefile-plugins.js';
export { KubernetesZone, type KubernetesZoneOptions } from './kubernetes-zone.js';
export { CLUSTER_DNS_IP, CLUSTER_DOMAIN, COREDNS_IMAGE, DEFAULT_COREFILE, corednsAddon } from './addon.js';
export {
  PLUGIN_ORDER,
  compose,
  sortByOrder,
  finalReply,
  encodeOutcome,
  type Query,
  type Outcome,
  type Handler,
  type PluginInstance,
} from './chain.js';
export { DnsServer, SERVER_DEFAULTS, type BlockRuntime, type DnsServerOptions, type Remote } from './server.js';
export { DnsMetrics } from './metrics.js';
export {
  readQuery,
  encodeMessage,
  errorReply,
  replyTo,
  withEdns,
  bufferSize,
  flagsText,
  MAX_QUERY_SIZE,
  type QueryRead,
  type DropReason,
} from './wire.js';
export {
  buildConfig,
  HttpEndpoints,
  lineLogger,
  stdoutLogger,
  type BuildDeps,
  type BuiltConfig,
  type Logger,
} from './plugins/index.js';
export {
  runCoredns,
  stopOnSignals,
  apiServerUrl,
  apiServerConfig,
  COREDNS_VERSION,
  type CorednsArgs,
  type CorednsHandle,
} from './run.js';
export { FixtureFeed, InformerFeed, type ZoneFeed } from './zone-feed.js';
export { parseDuration } from './corefile-args.js';
