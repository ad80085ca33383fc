export { ApiError, errors, fromStoreError, type Cause, type Reason, type StatusDetails } from './status.js';
export { dns1123LabelErrors, dns1123SubdomainErrors } from './names.js';
export {
  RESOURCE_TYPES,
  findResource,
  resourceForKind,
  groupVersion,
  storageKey,
  storagePrefix,
  apiVersions,
  apiGroupList,
  apiResourceList,
  type ResourceType,
} from './resources.js';
export {
  ApiServer,
  SERVED,
  DEFAULT_TOLERATION_SECONDS,
  type ApiServerConfig,
  type AuthOptions,
  type TlsFiles,
  type DefaultTolerationSeconds,
} from './server.js';
export { Access, type Channel, type RequestAuth } from './access.js';
export { validateObject, mergePatch, SCHEMAS } from './validate.js';
export { KUBELET_PORT, nodeInternalIp } from './pod-log.js';
export { execInPod, ExecUpgradeError, defaultContainer } from './streams/exec-client.js';
