import net from 'node:net';
import { startProcess, withNetns, type ChildProcess } from '../../host/index.js';

/**
 * Connections made INSIDE a pod's network namespace, handed to the agent.
 *
 * The agent lives in its node's namespace; 127.0.0.1 there is not the pod's.
 * A socket belongs to the namespace it was created in, not to the process
 * using it, so a small helper runs in the pod's namespace (`nsenter --net`,
 * as the containers are started), connects there, and passes each connected
 * socket back over Node's IPC channel (SCM_RIGHTS). From then on the bytes go
 * straight between the agent's SPDY stream and the pod's socket: no process
 * per connection and no pipe hop, unlike `nsenter … nc 127.0.0.1 PORT` per
 * connection, which would also lose the connect error's errno. One helper per
 * port-forward session serves all of its connections and exits with it (its
 * IPC channel closing ends it, even if the agent dies).
 *
 * As containerd does, localhost is tried over IPv4, then IPv6, and a failure
 * reports both in Go's words (kubectl prints them).
 */

/** The helper, run by `node -e` (so no file has to be found next to the compiled one). */
export const DIALER_HELPER_SOURCE = `
const net = require('node:net');
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  const s = net.connect({ host: m.host, port: m.port, family: m.family });
  s.once('connect', () => {
    s.pause(); // read nothing here: the bytes belong to the agent's end
    process.send({ id: m.id, ok: true }, s);
  });
  s.once('error', (e) => { s.destroy(); process.send({ id: m.id, ok: false, code: e.code || '', message: e.message }); });
});
`;

export class DialError extends Error {
  constructor(
    readonly code: 'ERR_DIAL_REFUSED' | 'ERR_DIAL_FAILED' | 'ERR_DIAL_HELPER',
    message: string,
  ) {
    super(message);
    this.name = 'DialError';
  }
}

/** Go's text for a connect(2) errno, as `net.Dial` prints it. */
export function goConnectError(network: 'tcp4' | 'tcp6', addr: string, code: string, message: string): string {
  const text: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'no route to host',
    ENETUNREACH: 'network is unreachable',
    EADDRNOTAVAIL: 'cannot assign requested address',
    EAFNOSUPPORT: 'address family not supported by protocol',
  };
  return `dial ${network} ${addr}: connect: ${text[code] ?? message}`;
}

/** containerd's message for a port nobody listens on inside the namespace. */
export function connectFailureMessage(port: number, netns: string, v4: string, v6: string): string {
  return (
    `failed to execute portforward in network namespace "/run/netns/${netns}": ` +
    `failed to connect to localhost:${port} inside namespace "${netns}", IPv4: ${v4} IPv6 ${v6} `
  );
}

export interface NetnsDialer {
  /** A socket connected to localhost:port in the namespace; DialError otherwise. */
  dial(port: number): Promise<net.Socket>;
  close(): void;
}

type Pending = { resolve: (r: { ok: boolean; code?: string; message?: string; socket?: net.Socket }) => void };

export function netnsDialer(netns: string, opts: { startHelper?: () => ChildProcess } = {}): NetnsDialer {
  let child: ChildProcess | null = null;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  let closed = false;

  const helper = (): ChildProcess => {
    if (child && child.connected) return child;
    const c =
      opts.startHelper?.() ??
      startProcess(withNetns(netns, [process.execPath, '-e', DIALER_HELPER_SOURCE]), {
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    c.on('message', (m: { id: number; ok: boolean; code?: string; message?: string }, handle?: net.Socket) => {
      const p = pending.get(m.id);
      if (!p) {
        handle?.destroy();
        return;
      }
      pending.delete(m.id);
      p.resolve({ ...m, socket: handle });
    });
    const fail = () => {
      for (const [id, p] of pending) {
        pending.delete(id);
        p.resolve({
          ok: false,
          code: 'HELPER',
          message: `the dialer in ${netns} ended: ${stderr.trim() || 'no output'}`,
        });
      }
      if (child === c) child = null;
    };
    c.on('exit', fail);
    c.on('error', (e: Error) => {
      stderr += e.message;
      fail();
    });
    child = c;
    return c;
  };

  const once = (port: number, host: string, family: 4 | 6) =>
    new Promise<{ ok: boolean; code?: string; message?: string; socket?: net.Socket }>((resolve) => {
      const id = nextId++;
      pending.set(id, { resolve });
      const c = helper();
      try {
        c.send({ id, host, port, family }, (err: Error | null) => {
          if (err && pending.delete(id)) resolve({ ok: false, code: 'HELPER', message: err.message });
        });
      } catch (e) {
        pending.delete(id);
        resolve({ ok: false, code: 'HELPER', message: (e as Error).message });
      }
    });

  return {
    async dial(port) {
      if (closed) throw new DialError('ERR_DIAL_HELPER', 'the dialer is closed');
      const v4 = await once(port, '127.0.0.1', 4);
      if (v4.ok && v4.socket) return v4.socket;
      if (v4.code === 'HELPER') throw new DialError('ERR_DIAL_HELPER', v4.message ?? 'dialer failed');
      const v6 = await once(port, '::1', 6);
      if (v6.ok && v6.socket) return v6.socket;
      const refused = v4.code === 'ECONNREFUSED';
      throw new DialError(
        refused ? 'ERR_DIAL_REFUSED' : 'ERR_DIAL_FAILED',
        connectFailureMessage(
          port,
          netns,
          goConnectError('tcp4', `127.0.0.1:${port}`, v4.code ?? '', v4.message ?? ''),
          goConnectError('tcp6', `[::1]:${port}`, v6.code ?? '', v6.message ?? ''),
        ),
      );
    },
    close() {
      closed = true;
      if (child) {
        child.disconnect?.();
        child.kill();
      }
      child = null;
    },
  };
}
