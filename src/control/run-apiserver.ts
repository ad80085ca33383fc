import { openStore, StoreError } from './store/index.js';
import { ApiServer } from './api/index.js';
import { ApiClient } from './client/index.js';
import { startControllers } from './controllers/index.js';
import { ensureKubernetesService } from './controllers/kubernetes-service.js';
import { streamUpgradeHandler } from './api/streams/upgrade-proxy.js';

/**
 * `podwire apiserver`: the API server over its store, on TCP and optionally
 * a Unix socket, with the controllers (node IPAM and lifecycle, scheduler,
 * Deployment, StatefulSet, endpoints) running in the same process as
 * clients of it — kube-apiserver, kube-controller-manager and kube-scheduler
 * in one.
 */
export interface ApiServerOptions {
  store: string;
  host: string;
  /** the address the `kubernetes` Service names (kube-apiserver's --advertise-address); default: host */
  advertiseAddress?: string;
  port: number;
  socket?: string;
  controllers: boolean;
  clusterCidr: string;
  nodeMonitorGracePeriodMs: number;
}

export async function runApiServer(
  o: ApiServerOptions,
  log: (m: string) => void,
): Promise<{ stop(): Promise<void>; url: string }> {
  const store = openStore(o.store);
  const recovery = (store as { recovery?: { tornBytes: number; tornAtOffset: number } }).recovery;
  if (recovery?.tornBytes)
    log(
      `store: a torn final write of ${recovery.tornBytes} bytes at offset ${recovery.tornAtOffset} was cut off (it was never acknowledged)`,
    );
  const api = new ApiServer(store);
  // pods/exec, attach and portforward: upgrades proxied to the agent of the pod's node
  api.onUpgrade = streamUpgradeHandler((m) => log(`streams: ${m}`));
  // A store that is still starting (etcd started beside us) gets 30 s to answer.
  for (let waited = 0; ; waited += 300) {
    try {
      await api.bootstrap();
      break;
    } catch (e) {
      if (!(e instanceof StoreError && e.code === 'Unavailable') || waited > 30_000) throw e;
      if (waited === 0) log(`store not answering yet (${e.message}); retrying`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  const { url } = await api.listen(o.port, o.host);
  const unix = o.socket ? await api.listenUnix(o.socket) : null;
  log(`apiserver on ${url}${unix ? ` and ${unix}` : ''} (store: ${store.kind} ${o.store})`);
  let controllers: { stop(): void } | null = null;
  let client: ApiClient | null = null;
  if (o.controllers) {
    client = new ApiClient(unix ?? url);
    controllers = await startControllers(client, {
      clusterCidr: o.clusterCidr,
      nodeCidrMaskSize: 24,
      nodeMonitorGracePeriodMs: o.nodeMonitorGracePeriodMs,
      log: (m: string) => log(`controllers: ${m}`),
    });
    log('controllers running: node IPAM and lifecycle, scheduler, Deployment, StatefulSet, endpoints');
    // The `kubernetes` Service points at this server (only at an address pods can reach: the advertised one, else the one it listens on).
    const advertise = o.advertiseAddress ?? o.host;
    if (advertise !== '127.0.0.1' && advertise !== '0.0.0.0') {
      await ensureKubernetesService(client, advertise, o.port).catch((err) =>
        log(`kubernetes Service not ensured: ${(err as Error).message}`),
      );
    }
  }
  return {
    url,
    async stop() {
      controllers?.stop();
      client?.close();
      await api.close();
      await store.close();
    },
  };
}
