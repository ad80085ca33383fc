import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { ControlError } from '../errors.js';

/**
 * Where the API server is and who we are to it — client-go's rest.Config,
 * the part podwire needs:
 * - `unix:/path/apiserver.sock`: the control-plane machine's local channel
 *   (the API server treats every request on it as system:admin); no TLS.
 * - `http://host:port`: the teaching listener on the control plane's loopback.
 * - `https://host:port`: TLS verified against `ca` (the lab CA), and one of
 *   a client certificate (`cert` + `key`) or a Bearer token (`token`, or
 *   `tokenFile` re-read when it changes, so a kubelet-refreshed projected
 *   token is picked up as client-go's file token source does).
 */
export interface ApiServerConfig {
  server: string;
  /** PEM of the CA(s) that sign the server's certificate. */
  ca?: string | Buffer;
  /** PEM client certificate and key. */
  cert?: string | Buffer;
  key?: string | Buffer;
  token?: string;
  tokenFile?: string;
  /** Verify the server's certificate as this name (kubeconfig's tls-server-name). */
  tlsServerName?: string;
}

/** A bare URL string or a whole config: every `new ApiClient(...)` takes either. */
export type ApiServerTarget = string | ApiServerConfig;

export function toApiServerConfig(t: ApiServerTarget): ApiServerConfig {
  return typeof t === 'string' ? { server: t } : t;
}

/** What node:http(s).request needs for this server (pure apart from reading the token file). */
export interface Transport {
  module: typeof http | typeof https;
  /** host/port or socketPath, and the TLS options */
  target: http.RequestOptions & https.RequestOptions;
  /** Authorization header for this request, if any (a token file is read now if it changed). */
  authorization(): string | undefined;
}

export function transportFor(cfg: ApiServerConfig): Transport {
  const server = cfg.server;
  if (server.startsWith('unix:')) {
    return { module: http, target: { socketPath: server.slice('unix:'.length) }, authorization: () => undefined };
  }
  let u: URL;
  try {
    u = new URL(server);
  } catch {
    u = new URL('bad:');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ControlError(
      'ERR_BAD_SERVER_URL',
      `API server URL must be https://host:port, http://host:port or unix:/path (got ${server})`,
    );
  }
  const tokenSource = cfg.tokenFile ? fileTokenSource(cfg.tokenFile) : () => cfg.token;
  const authorization = () => {
    const t = tokenSource();
    return t ? `Bearer ${t}` : undefined;
  };
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (u.protocol === 'http:') return { module: http, target: { host, port: Number(u.port || 80) }, authorization };
  return {
    module: https,
    target: {
      host,
      port: Number(u.port || 443),
      ...(cfg.ca ? { ca: cfg.ca } : {}),
      ...(cfg.cert && cfg.key ? { cert: cfg.cert, key: cfg.key } : {}),
      ...(cfg.tlsServerName ? { servername: cfg.tlsServerName } : {}),
    },
    authorization,
  };
}

/**
 * A token read from a file, read again whenever the file changes (its inode,
 * size or mtime: the kubelet replaces a projected token by renaming a new
 * directory in, so the inode changes). A stat per request is cheap beside the
 * request; client-go instead re-reads once a minute.
 */
export function fileTokenSource(file: string): () => string | undefined {
  let seen = '';
  let token: string | undefined;
  return () => {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      return token; // gone for a moment while it is replaced: keep the last one
    }
    const key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (key !== seen) {
      try {
        token = fs.readFileSync(file, 'utf8').trim();
        seen = key;
      } catch {
        /* keep the last one */
      }
    }
    return token;
  };
}

/** The in-cluster files, where the kubelet projects them. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * client-go's rest.InClusterConfig: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT,
 * the ServiceAccount's projected token (re-read as it is refreshed) and the CA beside it.
 */
export function inClusterConfig(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): ApiServerConfig {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new ControlError(
      'ERR_NOT_IN_CLUSTER',
      'unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined',
    );
  }
  const tokenFile = `${dir}/token`;
  if (!fs.existsSync(tokenFile)) {
    throw new ControlError('ERR_NOT_IN_CLUSTER', `open ${tokenFile}: no such file or directory`);
  }
  const caFile = `${dir}/ca.crt`;
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    tokenFile,
    ...(fs.existsSync(caFile) ? { ca: fs.readFileSync(caFile) } : {}),
  };
}

/**
 * How an in-cluster program (CoreDNS, the ingress controller) finds the API
 * server: in a pod with a projected token, client-go's in-cluster config
 * (https, the token, the CA); with KUBERNETES_SERVICE_HOST but no token (a
 * cluster without TLS), that address in plain HTTP; outside a pod, the
 * program's own flag, else the `kubernetes` Service's address.
 */
export function inClusterOr(
  fallback: string,
  env: NodeJS.ProcessEnv = process.env,
  dir = SERVICE_ACCOUNT_DIR,
): ApiServerConfig {
  const host = env.KUBERNETES_SERVICE_HOST;
  if (host && env.KUBERNETES_SERVICE_PORT && fs.existsSync(`${dir}/token`)) return inClusterConfig(env, dir);
  if (host)
    return { server: `http://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}` };
  return { server: fallback };
}
