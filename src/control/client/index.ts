export {
  ApiClient,
  ApiClientError,
  resourceOf,
  resourcePath,
  type KubeObject,
  type ListOptions,
  type WatchEventOf,
  type WatchHandle,
} from './api-client.js';
export { apply, readManifests, parseManifests, unchangedBy, ApplyError, type Doc } from './apply.js';
export { Informer, objectKey, type InformerHandlers } from './informer.js';
export { recordEvent, eventObject, EventRecorder, type EventType } from './events.js';
export {
  inClusterConfig,
  inClusterOr,
  fileTokenSource,
  transportFor,
  toApiServerConfig,
  SERVICE_ACCOUNT_DIR,
  type ApiServerConfig,
  type ApiServerTarget,
} from './credentials.js';
export { kubeconfigYaml, writeKubeconfig, parseKubeconfig, loadKubeconfig, type KubeconfigSpec } from './kubeconfig.js';
