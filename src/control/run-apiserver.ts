import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { openStore, StoreError } from './store/index.js';
import { ApiServer, DEFAULT_TOLERATION_SECONDS, type AuthOptions } from './api/index.js';
import { AuthError, DEFAULT_ISSUER } from './auth/index.js';
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
  /** kube-apiserver's TLS and ServiceAccount flags (file paths) */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCaFile?: string;
  serviceAccountKeyFiles?: string[];
  serviceAccountSigningKeyFile?: string;
  serviceAccountIssuer?: string;
  apiAudiences?: string[];
  /** Node,RBAC (the default with TLS), RBAC, or AlwaysAllow */
  authorizationMode?: string;
  /** --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds (300 unless set) */
  defaultNotReadyTolerationSeconds?: number;
  defaultUnreachableTolerationSeconds?: number;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * What the flags ask for, checked before anything starts: TLS needs both
 * the certificate and its key; plain HTTP only on a loopback address (it is
 * unauthenticated admin); RBAC or AlwaysAllow; ServiceAccount tokens
 * verified with the public keys given, else with the signing key's own.
 */
export function authSetup(o: ApiServerOptions): {
  tls: { cert: Buffer; key: Buffer; clientCa?: Buffer } | null;
  auth: AuthOptions | undefined;
} {
  const read = (f: string, what: string) => {
    try {
      return fs.readFileSync(f);
    } catch (e) {
      throw new AuthError('ERR_AUTH_CONFIG', `${what} ${f}: ${(e as Error).message}`, { cause: e });
    }
  };
  if (!!o.tlsCertFile !== !!o.tlsPrivateKeyFile)
    throw new AuthError('ERR_AUTH_CONFIG', '--tls-cert-file and --tls-private-key-file go together');
  const tls = o.tlsCertFile
    ? {
        cert: read(o.tlsCertFile, '--tls-cert-file'),
        key: read(o.tlsPrivateKeyFile!, '--tls-private-key-file'),
        ...(o.clientCaFile ? { clientCa: read(o.clientCaFile, '--client-ca-file') } : {}),
      }
    : null;
  if (!tls && !LOOPBACK.test(o.host))
    throw new AuthError(
      'ERR_AUTH_CONFIG',
      `--host ${o.host} without --tls-cert-file/--tls-private-key-file: plain HTTP (unauthenticated, everyone admin) is served only on a loopback address`,
    );
  const { mode, nodeAuthorizer } = authorizationModes(o.authorizationMode ?? (tls ? 'Node,RBAC' : 'AlwaysAllow'));
  const signingKey = o.serviceAccountSigningKeyFile
    ? loadKey(read(o.serviceAccountSigningKeyFile, '--service-account-signing-key-file'), true)
    : undefined;
  const publicKeys: KeyObject[] = (o.serviceAccountKeyFiles ?? []).map((f) =>
    loadKey(read(f, '--service-account-key-file'), false),
  );
  if (signingKey && !publicKeys.length) publicKeys.push(createPublicKey(signingKey));
  const issuer = o.serviceAccountIssuer ?? DEFAULT_ISSUER;
  return {
    tls,
    auth: {
      authorization: mode,
      ...(nodeAuthorizer ? { nodeAuthorizer } : {}),
      ...(publicKeys.length
        ? {
            serviceAccounts: {
              publicKeys,
              signingKey,
              issuer,
              audiences: o.apiAudiences?.length ? o.apiAudiences : [issuer],
            },
          }
        : {}),
    },
  };
}

/**
 * --authorization-mode, a comma-separated list as kube-apiserver's: Node
 * and RBAC (the Node authorizer is asked first, as upstream orders them
 * in kubeadm's `Node,RBAC`), or AlwaysAllow alone.
 */
export function authorizationModes(flag: string): { mode: 'RBAC' | 'AlwaysAllow'; nodeAuthorizer: boolean } {
  const modes = flag
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  const bad = modes.find((m) => !['Node', 'RBAC', 'AlwaysAllow'].includes(m));
  if (bad || !modes.length || new Set(modes).size !== modes.length)
    throw new AuthError(
      'ERR_AUTH_CONFIG',
      `--authorization-mode ${flag}: podwire knows Node,RBAC, RBAC and AlwaysAllow`,
    );
  if (modes.includes('AlwaysAllow')) {
    if (modes.length > 1)
      throw new AuthError('ERR_AUTH_CONFIG', `--authorization-mode ${flag}: AlwaysAllow allows everything alone`);
    return { mode: 'AlwaysAllow', nodeAuthorizer: false };
  }
  if (!modes.includes('RBAC'))
    throw new AuthError('ERR_AUTH_CONFIG', `--authorization-mode ${flag}: Node needs RBAC beside it (Node,RBAC)`);
  return { mode: 'RBAC', nodeAuthorizer: modes.includes('Node') };
}

function loadKey(pem: Buffer, isPrivate: boolean): KeyObject {
  try {
    // a public key file may also hold a private key (kube-apiserver takes either)
    return isPrivate ? createPrivateKey(pem) : createPublicKey(pem);
  } catch (e) {
    throw new AuthError(
      'ERR_AUTH_CONFIG',
      `not a PEM ${isPrivate ? 'private' : 'public'} key: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

export async function runApiServer(
  o: ApiServerOptions,
  log: (m: string) => void,
): Promise<{ stop(): Promise<void>; url: string }> {
  const { tls, auth } = authSetup(o); // a bad flag stops us before the store is opened
  const store = openStore(o.store);
  const recovery = (store as { recovery?: { tornBytes: number; tornAtOffset: number } }).recovery;
  if (recovery?.tornBytes)
    log(
      `store: a torn final write of ${recovery.tornBytes} bytes at offset ${recovery.tornAtOffset} was cut off (it was never acknowledged)`,
    );
  // the ServiceAccount admission plugin where the ServiceAccount controller makes `default`
  const api = new ApiServer(store, {
    auth,
    bootstrapPolicy: true,
    serviceAccountAdmission: o.controllers,
    defaultTolerationSeconds: {
      notReady: o.defaultNotReadyTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS.notReady,
      unreachable: o.defaultUnreachableTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS.unreachable,
    },
    log: (m) => log(m),
  });
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
  const { url } = tls ? await api.listenTls(o.port, o.host, tls) : await api.listen(o.port, o.host);
  const unix = o.socket ? await api.listenUnix(o.socket) : null;
  log(
    `apiserver on ${url}${unix ? ` and ${unix}` : ''} (store: ${store.kind} ${o.store}; ${
      tls
        ? `TLS, client certificates${auth?.serviceAccounts ? ', ServiceAccount tokens' : ''}, authorization ${auth?.nodeAuthorizer ? 'Node,' : ''}${auth?.authorization}`
        : 'plain HTTP on loopback: every request is system:admin'
    })`,
  );
  // the in-process controllers reach the server over a Unix socket (system:admin): the one
  // asked for, else a private one (a directory only root can enter)
  let privateDir: string | null = null;
  let local = unix;
  if (o.controllers && !local) {
    privateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwire-apiserver-'));
    fs.chmodSync(privateDir, 0o700);
    local = await api.listenUnix(path.join(privateDir, 'controllers.sock'));
  }
  let controllers: { stop(): void } | null = null;
  let client: ApiClient | null = null;
  if (o.controllers) {
    client = new ApiClient(local ?? url);
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
      if (privateDir) fs.rmSync(privateDir, { recursive: true, force: true });
    },
  };
}
