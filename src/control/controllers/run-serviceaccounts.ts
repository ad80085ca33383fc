import { Informer } from '../client/informer.js';
import type { ApiClient } from '../client/api-client.js';
import { defaultServiceAccountObject, namespacesMissingDefault } from './serviceaccounts.js';
import { inParallel, isConflict, isNotFound } from './runtime.js';
import { WorkQueue } from './work-queue.js';

/**
 * The ServiceAccount controller's runner: namespaces and ServiceAccounts
 * watched; when a namespace appears, or a `default` ServiceAccount is
 * deleted, the missing ones are created. Its own informers (no other
 * controller reads these kinds).
 */
export async function startServiceAccounts(
  client: ApiClient,
  log: (m: string) => void,
): Promise<{ resync(): void; stop(): void }> {
  const namespaces = new Informer(client, 'namespaces', {}, (m) => log(`informer: ${m}`));
  const accounts = new Informer(client, 'serviceaccounts', {}, (m) => log(`informer: ${m}`));
  await Promise.all([namespaces.start(), accounts.start()]);
  const queue = new WorkQueue(
    'serviceaccount',
    async () => {
      const missing = namespacesMissingDefault(namespaces.list(), accounts.list());
      await inParallel(missing, 8, async (ns) => {
        try {
          await client.create(defaultServiceAccountObject(ns));
        } catch (e) {
          // already made (our cache is behind), or the namespace is going away
          if (isConflict(e) || isNotFound(e) || (e as { status?: number }).status === 403) return;
          throw e;
        }
      });
    },
    log,
    5, // pods of a new namespace wait on it (ServiceAccount admission)
  );
  namespaces.on({ added: () => queue.add('all'), modified: () => queue.add('all') });
  accounts.on({ deleted: () => queue.add('all') });
  return {
    resync: () => queue.add('all'),
    stop() {
      queue.stop();
      namespaces.stop();
      accounts.stop();
    },
  };
}
