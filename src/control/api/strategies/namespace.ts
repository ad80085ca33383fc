import type { Store } from '../../store/index.js';
import { storagePrefix } from '../resources.js';
import { SERVED } from '../served.js';
import type { Strategy } from './strategy.js';

/** A Namespace is Active from its creation, and takes everything in it along when it goes. */
export function namespaceStrategy(store: Store): Strategy {
  return {
    prepareForCreate(o) {
      o.status = { phase: 'Active' };
    },
    async afterDelete(t) {
      for (const r of SERVED.filter((x) => x.namespaced)) {
        for (const item of (await store.list(storagePrefix(r, t.name))).items)
          await store.delete(item.key).catch(() => {});
      }
    },
  };
}
