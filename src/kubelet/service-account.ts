import fs from 'node:fs';
import path from 'node:path';
import type { ApiClient, KubeObject } from '../control/client/index.js';
import { KUBERNETES_SERVICE_IP } from '../control/controllers/index.js';
import { KubeletError } from './errors.js';

/**
 * A pod's ServiceAccount credentials, as the kubelet projects the
 * `kube-api-access-*` volume the ServiceAccount admission plugin adds: a
 * bound token from TokenRequest (the pod's ServiceAccount, bound to the pod:
 * it dies with the pod), the cluster CA, and the namespace, read-only at
 * /var/run/secrets/kubernetes.io/serviceaccount in every container. The
 * token is fetched again when 80 % of its life has passed (the kubelet's
 * token manager rule), and the files are replaced as the kubelet's
 * AtomicWriter does — a new `..<timestamp>` directory, then the `..data`
 * symlink renamed onto it — so a reader never sees half a token and a
 * client that re-reads the file (client-go's file token source) picks up
 * the new one. Plus the environment every pod gets: the `kubernetes`
 * Service's address (KUBERNETES_SERVICE_HOST/PORT and the docker-link
 * variables), which in-cluster clients dial.
 */
export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** kube-apiserver's default audience and the kubelet's default lifetime (an hour and 7 s, so a refresh is visible as such). */
export const DEFAULT_AUDIENCES = ['https://kubernetes.default.svc.cluster.local'];
export const TOKEN_EXPIRATION_SECONDS = 3607;
const KUBERNETES_SERVICE = { host: KUBERNETES_SERVICE_IP, port: 443 };

/** Whether the pod gets a token: the pod's automountServiceAccountToken, else its ServiceAccount's, else yes. */
export function mountsToken(pod: KubeObject, sa?: KubeObject | null): boolean {
  const own = pod.spec?.automountServiceAccountToken;
  if (typeof own === 'boolean') return own;
  const fromSa = sa?.automountServiceAccountToken;
  return typeof fromSa === 'boolean' ? fromSa : true;
}

export function serviceAccountOf(pod: KubeObject): string {
  return pod.spec?.serviceAccountName || pod.spec?.serviceAccount || 'default';
}

/** The TokenRequest the kubelet sends for a pod (pure). */
export function tokenRequestFor(pod: KubeObject, expirationSeconds = TOKEN_EXPIRATION_SECONDS): Record<string, any> {
  return {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      audiences: DEFAULT_AUDIENCES,
      expirationSeconds,
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata.name, uid: pod.metadata.uid },
    },
  };
}

/** When to fetch again: at 80 % of the token's life (iat → exp from its claims), else 80 % from now to its expiry. */
export function refreshAtMs(token: string, expirationTimestamp: string | undefined, nowMs: number): number {
  const claims = jwtClaims(token);
  const exp = claims?.exp ? claims.exp * 1000 : expirationTimestamp ? Date.parse(expirationTimestamp) : NaN;
  const iat = claims?.iat ? claims.iat * 1000 : nowMs;
  if (!Number.isFinite(exp)) return nowMs + 0.8 * TOKEN_EXPIRATION_SECONDS * 1000;
  return iat + 0.8 * (exp - iat);
}

/** The payload of a JWT, unverified (the kubelet only needs its times). */
export function jwtClaims(token: string): { exp?: number; iat?: number; [k: string]: unknown } | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

/** The `kubernetes` Service's environment, as the kubelet gives every container (pure). */
export function kubernetesServiceEnv(): Record<string, string> {
  const { host, port } = KUBERNETES_SERVICE;
  const tcp = `tcp://${host}:${port}`;
  return {
    KUBERNETES_SERVICE_HOST: host,
    KUBERNETES_SERVICE_PORT: String(port),
    KUBERNETES_SERVICE_PORT_HTTPS: String(port),
    KUBERNETES_PORT: tcp,
    [`KUBERNETES_PORT_${port}_TCP`]: tcp,
    [`KUBERNETES_PORT_${port}_TCP_PROTO`]: 'tcp',
    [`KUBERNETES_PORT_${port}_TCP_PORT`]: String(port),
    [`KUBERNETES_PORT_${port}_TCP_ADDR`]: host,
  };
}

/**
 * Write `files` into `dir` as the kubelet's AtomicWriter: `..<stamp>/` with
 * the files, `..data` → it (a symlink renamed into place: atomic), and one
 * `name` → `..data/name` symlink per file; the previous `..<stamp>` removed.
 * Files 0644 (the projected volume's defaultMode 420), so a container
 * running as another user can read them; the bind is read-only.
 */
export function atomicWrite(dir: string, files: Record<string, string>, stamp = String(Date.now())): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const dataDir = `..${stamp}`;
  const full = path.join(dir, dataDir);
  fs.rmSync(full, { recursive: true, force: true });
  fs.mkdirSync(full, { mode: 0o755 });
  for (const [name, text] of Object.entries(files)) {
    fs.writeFileSync(path.join(full, name), text, { mode: 0o644 });
    fs.chmodSync(path.join(full, name), 0o644);
  }
  let old: string | null = null;
  try {
    old = fs.readlinkSync(path.join(dir, '..data'));
  } catch {
    /* first write */
  }
  const tmpLink = path.join(dir, '..data_tmp');
  fs.rmSync(tmpLink, { force: true });
  fs.symlinkSync(dataDir, tmpLink);
  fs.renameSync(tmpLink, path.join(dir, '..data'));
  for (const name of Object.keys(files)) {
    const link = path.join(dir, name);
    let target: string | null = null;
    try {
      target = fs.readlinkSync(link);
    } catch {
      /* not there yet */
    }
    if (target !== `..data/${name}`) {
      fs.rmSync(link, { force: true });
      fs.symlinkSync(`..data/${name}`, link);
    }
  }
  if (old && old !== dataDir) fs.rmSync(path.join(dir, old), { recursive: true, force: true });
}

interface Projected {
  dir: string;
  timer: NodeJS.Timeout | null;
}

/**
 * The kubelet's token manager and the projected volume's writer, per pod
 * (by uid). The token comes over the agent's own API connection (in the
 * netns lab: the API server's Unix socket, system:admin; with a node
 * certificate: system:node:<name>, whom the API server lets request tokens
 * for its pods' ServiceAccounts).
 */
export class ServiceAccountTokens {
  private readonly pods = new Map<string, Projected>();

  constructor(
    private readonly o: {
      client: ApiClient;
      /** PEM of the cluster CA, for ca.crt */
      caPem: string;
      log: (m: string) => void;
      /** where a pod's directory lives */
      dirFor: (uid: string) => string;
      now?: () => number;
    },
  ) {}

  /** Fetch a token and write the files (once per pod; refreshed on a timer after). Returns the directory to bind. Throws if the token cannot be had. */
  async ensure(pod: KubeObject): Promise<string> {
    const uid = pod.metadata.uid!;
    const have = this.pods.get(uid);
    if (have) return have.dir;
    const dir = this.o.dirFor(uid);
    const now = (this.o.now ?? Date.now)();
    // an agent restarted: the token it wrote is still good until its refresh time
    const existing = readToken(dir);
    let refreshAt: number;
    if (existing && refreshAtMs(existing, undefined, now) > now + 5_000)
      refreshAt = refreshAtMs(existing, undefined, now);
    else refreshAt = await this.fetch(pod, dir);
    const p: Projected = { dir, timer: null };
    this.pods.set(uid, p);
    this.schedule(pod, p, refreshAt - now);
    return dir;
  }

  /** Forget a pod (its directory goes with the pod's). */
  forget(uid: string): void {
    const p = this.pods.get(uid);
    if (p?.timer) clearTimeout(p.timer);
    this.pods.delete(uid);
  }

  stop(): void {
    for (const uid of [...this.pods.keys()]) this.forget(uid);
  }

  private schedule(pod: KubeObject, p: Projected, inMs: number): void {
    p.timer = setTimeout(
      () => {
        if (this.pods.get(pod.metadata.uid!) !== p) return;
        this.fetch(pod, p.dir).then(
          (at) => this.schedule(pod, p, at - (this.o.now ?? Date.now)()),
          (e: Error) => {
            this.o.log(
              `kubelet: refreshing the token of pod ${pod.metadata.namespace}/${pod.metadata.name}: ${e.message}`,
            );
            this.schedule(pod, p, 10_000);
          },
        );
      },
      Math.max(1000, inMs),
    );
    p.timer.unref();
  }

  /** TokenRequest, then the files; returns when to refresh. */
  private async fetch(pod: KubeObject, dir: string): Promise<number> {
    const ns = pod.metadata.namespace ?? 'default';
    const sa = serviceAccountOf(pod);
    const tr = await this.o.client.request(
      'POST',
      `/api/v1/namespaces/${encodeURIComponent(ns)}/serviceaccounts/${encodeURIComponent(sa)}/token`,
      tokenRequestFor(pod),
    );
    const token: string | undefined = tr?.status?.token;
    if (!token) throw new KubeletError('ERR_TOKEN', `TokenRequest for ${ns}/${sa} answered without a token`);
    atomicWrite(dir, { token, 'ca.crt': this.o.caPem, namespace: ns });
    return refreshAtMs(token, tr.status.expirationTimestamp, (this.o.now ?? Date.now)());
  }
}

function readToken(dir: string): string | null {
  try {
    return fs.readFileSync(path.join(dir, 'token'), 'utf8');
  } catch {
    return null;
  }
}
