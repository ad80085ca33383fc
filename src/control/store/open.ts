import { FileStore } from './file-store.js';
import { EtcdStore } from './etcd-store.js';
import type { Store } from './types.js';

/** `--store`: a directory (default: the embedded file store) or etcd://host:port[,host:port]. */
export function openStore(spec: string): Store {
  if (spec.startsWith('etcd://')) {
    const hosts = spec
      .slice('etcd://'.length)
      .split(',')
      .map((h) => `http://${h}`);
    return new EtcdStore(hosts);
  }
  return FileStore.open(spec.startsWith('file://') ? spec.slice('file://'.length) : spec);
}
