import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { ControlError } from '../errors.js';
import type { ApiServerConfig } from './credentials.js';

/**
 * kubeconfig files (clientcmd's v1 Config): written for the lab's admin (the
 * real kubectl reads it) and read by podwire's clients. Only the fields this
 * project uses: a cluster's server, CA and tls-server-name; a user's client
 * certificate and key or token / tokenFile; contexts and current-context.
 * Paths in a file are relative to the file, as clientcmd resolves them.
 */
export interface KubeconfigSpec {
  /** cluster, user and context names (kubeadm: "kubernetes", "kubernetes-admin", "kubernetes-admin@kubernetes") */
  cluster: string;
  user: string;
  server: string;
  caPem: string;
  certPem?: string;
  keyPem?: string;
  token?: string;
  namespace?: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A kubeconfig with everything embedded (`*-data`), so it works wherever it is copied (pure). */
export function kubeconfigYaml(spec: KubeconfigSpec): string {
  const context = `${spec.user}@${spec.cluster}`;
  const user: Record<string, string> = {};
  if (spec.certPem) user['client-certificate-data'] = b64(spec.certPem);
  if (spec.keyPem) user['client-key-data'] = b64(spec.keyPem);
  if (spec.token) user.token = spec.token;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: spec.cluster, cluster: { server: spec.server, 'certificate-authority-data': b64(spec.caPem) } }],
    users: [{ name: spec.user, user }],
    contexts: [
      {
        name: context,
        context: { cluster: spec.cluster, user: spec.user, ...(spec.namespace ? { namespace: spec.namespace } : {}) },
      },
    ],
    'current-context': context,
    preferences: {},
  });
}

/** Write it 0600 (it holds a private key), atomically. */
export function writeKubeconfig(file: string, spec: KubeconfigSpec): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, kubeconfigYaml(spec), { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

const bad = (file: string, why: string) => new ControlError('ERR_BAD_KUBECONFIG', `kubeconfig ${file}: ${why}`);

/**
 * The current context's (or `context`'s) server and credentials from a
 * kubeconfig's text. `file` names it in errors and anchors relative paths.
 */
export function parseKubeconfig(text: string, file: string, context?: string): ApiServerConfig {
  let doc: any;
  try {
    doc = parse(text);
  } catch (e) {
    throw bad(file, (e as Error).message);
  }
  const ctxName = context ?? doc?.['current-context'];
  if (!ctxName) throw bad(file, 'no current-context');
  const named = (list: unknown, name: string, what: string) => {
    const hit = (Array.isArray(list) ? list : []).find((x: any) => x?.name === name);
    if (!hit) throw bad(file, `${what} "${name}" not found`);
    return hit;
  };
  const ctx = named(doc.contexts, ctxName, 'context').context ?? {};
  const cluster = named(doc.clusters, ctx.cluster, 'cluster').cluster ?? {};
  const user = ctx.user ? (named(doc.users, ctx.user, 'user').user ?? {}) : {};
  if (!cluster.server) throw bad(file, `cluster "${ctx.cluster}" has no server`);
  const dir = path.dirname(path.resolve(file));
  const pemFrom = (data: string | undefined, ref: string | undefined): Buffer | undefined => {
    if (data) return Buffer.from(data, 'base64');
    if (ref) return fs.readFileSync(path.resolve(dir, ref));
    return undefined;
  };
  const cfg: ApiServerConfig = { server: String(cluster.server).replace(/\/$/, '') };
  const ca = pemFrom(cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (ca) cfg.ca = ca;
  if (cluster['tls-server-name']) cfg.tlsServerName = cluster['tls-server-name'];
  const cert = pemFrom(user['client-certificate-data'], user['client-certificate']);
  const key = pemFrom(user['client-key-data'], user['client-key']);
  if (cert && key) {
    cfg.cert = cert;
    cfg.key = key;
  }
  if (user.token) cfg.token = String(user.token);
  else if (user.tokenFile) cfg.tokenFile = path.resolve(dir, user.tokenFile);
  return cfg;
}

export function loadKubeconfig(file: string, context?: string): ApiServerConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw bad(file, (e as Error).message);
  }
  return parseKubeconfig(text, file, context);
}
