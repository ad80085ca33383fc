import fs from 'node:fs';
import { planLab } from '../lab/index.js';

export class NoApiServerError extends Error {
  readonly code = 'ERR_NO_API_SERVER';
}

/**
 * Which API server a command talks to: --server, else $PODWIRE_SERVER
 * (compose nodes set it to http://apiserver:6443), else the netns lab's
 * Unix socket (`unix:/run/podwire/<lab>/apiserver.sock`).
 */
export function apiServerFor(opts: { server?: string; lab: string; stateRoot?: string }): string {
  if (opts.server) return opts.server.replace(/\/$/, '');
  if (process.env.PODWIRE_SERVER) return process.env.PODWIRE_SERVER.replace(/\/$/, '');
  const socket = planLab({ prefix: opts.lab, nodes: 1, stateRoot: opts.stateRoot }).controlPlane.socket;
  if (fs.existsSync(socket)) return `unix:${socket}`;
  throw new NoApiServerError(
    `no API server: lab "${opts.lab}" is not up (run: podwire lab up), and neither --server nor PODWIRE_SERVER is set`,
  );
}
