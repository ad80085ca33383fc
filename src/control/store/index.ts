export {
  StoreError,
  MAX_REQUEST_BYTES,
  type Store,
  type KeyValue,
  type WatchEvent,
  type WatchEventType,
  type Watch,
  type StoreErrorCode,
} from './types.js';
export { FileStore, type Recovery } from './file-store.js';
export { EtcdStore } from './etcd-store.js';
export { openStore } from './open.js';
