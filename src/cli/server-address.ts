import fs from 'node:fs';
import { planLab } from '../lab/index.js';
import { loadKubeconfig, type ApiServerTarget } from '../control/client/index.js';

export class NoApiServerError extends Error {
  readonly code = 'ERR_NO_API_SERVER';
}

/**
 * Which API server a command talks to, and as whom: --server, else
 * $PODWIRE_SERVER (compose sets https://172.28.0.2:6443), with the
 * credentials of $PODWIRE_KUBECONFIG when set (compose: the admin
 * kubeconfig; a kubeconfig alone names its server too), else the netns lab's
 * Unix socket (`unix:/run/podwire/<lab>/apiserver.sock`: the control-plane
 * machine's local channel, system:admin). $KUBECONFIG is not read: it may
 * name a real cluster, and podwire must not act on one by surprise.
 */
export function apiServerFor(opts: {
  server?: string;
  lab: string;
  stateRoot?: string;
  env?: NodeJS.ProcessEnv;
}): ApiServerTarget {
  const env = opts.env ?? process.env;
  const creds = env.PODWIRE_KUBECONFIG ? loadKubeconfig(env.PODWIRE_KUBECONFIG) : null;
  const explicit = opts.server || env.PODWIRE_SERVER;
  if (explicit) {
    const server = explicit.replace(/\/$/, '');
    return creds && !server.startsWith('unix:') ? { ...creds, server } : server;
  }
  if (creds) return creds;
  const socket = planLab({ prefix: opts.lab, nodes: 1, stateRoot: opts.stateRoot }).controlPlane.socket;
  if (fs.existsSync(socket)) return `unix:${socket}`;
  throw new NoApiServerError(
    `no API server: lab "${opts.lab}" is not up (run: podwire lab up), and neither --server nor PODWIRE_SERVER is set`,
  );
}
