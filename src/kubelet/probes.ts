import http from 'node:http';
import net from 'node:net';
import { startProcess, toolPath } from '../host/index.js';
import { execIdentityArgv, type ContainerSecurity } from './security.js';

/**
 * Readiness and liveness probes, run by the agent as the kubelet runs them:
 * httpGet and tcpSocket from the node to the pod's IP (the node reaches its
 * own pods directly over cbr0), exec inside the container's sandbox as
 * exec enters it (every namespace of its process, then its user, groups and
 * capabilities: it sees and may do what the container sees and may do).
 * Thresholds and periods as in the Pod spec, with Kubernetes' defaults.
 */
export interface ProbeSpec {
  httpGet?: {
    path?: string;
    port: number | string;
    host?: string;
    scheme?: string;
    httpHeaders?: { name: string; value: string }[];
  };
  tcpSocket?: { port: number | string; host?: string };
  exec?: { command?: string[] };
  grpc?: unknown;
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export type ProbeResult = { ok: true } | { ok: false; message: string };

export function resolvePort(
  port: number | string,
  ports: { name?: string; containerPort: number }[] | undefined,
): number | null {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return ports?.find((p) => p.name === port)?.containerPort ?? null;
}

/** Where an exec probe runs: the container (its process and identity, see runtime.ts execTarget), or without one the pod's network namespace. */
export interface ProbeTarget {
  netns: string;
  exec: { pid: number; env: Record<string, string>; security: ContainerSecurity | null } | null;
}

export function execProbeArgv(target: ProbeTarget, argv: string[]): string[] {
  const nsenter = toolPath('nsenter');
  if (!target.exec) return [nsenter, ...(target.netns ? [`--net=/run/netns/${target.netns}`] : []), '--', ...argv];
  const { pid, security } = target.exec;
  // a container started before containers were sandboxes: the namespaces it had
  if (!security) return [nsenter, '--target', String(pid), '--mount', '--uts', '--net', '--', ...argv];
  return [nsenter, '--target', String(pid), '--all', '--root', '--wd', '--', ...execIdentityArgv(security), ...argv];
}

export function runProbe(
  p: ProbeSpec,
  podIp: string,
  target: ProbeTarget,
  ports: { name?: string; containerPort: number }[] | undefined,
): Promise<ProbeResult> {
  const timeoutMs = (p.timeoutSeconds ?? 1) * 1000;
  if (p.httpGet) {
    const port = resolvePort(p.httpGet.port, ports);
    if (port === null)
      return Promise.resolve({ ok: false, message: `port "${p.httpGet.port}" is not a named port of the container` });
    if ((p.httpGet.scheme ?? 'HTTP') !== 'HTTP')
      return Promise.resolve({ ok: false, message: 'podwire probes speak HTTP only (scheme HTTPS is not supported)' });
    const headers = Object.fromEntries((p.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
    return new Promise((resolve) => {
      const req = http.get(
        {
          host: p.httpGet!.host ?? podIp,
          port,
          path: p.httpGet!.path ?? '/',
          headers: { 'user-agent': 'kube-probe/1.30', ...headers },
          timeout: timeoutMs,
          agent: false,
        },
        (res) => {
          res.resume();
          const code = res.statusCode ?? 0;
          resolve(
            code >= 200 && code < 400
              ? { ok: true }
              : { ok: false, message: `HTTP probe failed with statuscode: ${code}` },
          );
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`Client.Timeout exceeded while awaiting headers (${timeoutMs} ms)`)),
      );
      req.on('error', (e) =>
        resolve({ ok: false, message: `Get "http://${podIp}:${port}${p.httpGet!.path ?? '/'}": ${e.message}` }),
      );
    });
  }
  if (p.tcpSocket) {
    const port = resolvePort(p.tcpSocket.port, ports);
    if (port === null)
      return Promise.resolve({ ok: false, message: `port "${p.tcpSocket.port}" is not a named port of the container` });
    return new Promise((resolve) => {
      const s = net.connect({ host: p.tcpSocket!.host ?? podIp, port, timeout: timeoutMs });
      s.on('connect', () => {
        s.destroy();
        resolve({ ok: true });
      });
      s.on('timeout', () => s.destroy(new Error('i/o timeout')));
      s.on('error', (e) => resolve({ ok: false, message: `dial tcp ${podIp}:${port}: ${e.message}` }));
    });
  }
  if (p.exec?.command?.length) {
    const argv = p.exec.command;
    return new Promise((resolve) => {
      const child = startProcess(execProbeArgv(target, argv), {
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(target.exec ? { env: target.exec.env } : {}),
      });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (e) => resolve({ ok: false, message: e.message }));
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve(
          code === 0
            ? { ok: true }
            : {
                ok: false,
                message: `command ${JSON.stringify(argv)} exited with ${code ?? 'a signal (timeout)'}: ${out.trim().slice(0, 200)}`,
              },
        );
      });
    });
  }
  return Promise.resolve({ ok: false, message: 'probe has no handler podwire supports (httpGet, tcpSocket, exec)' });
}

/**
 * One probe's state machine: results counted against the thresholds.
 * `ready` starts false (readiness) and flips after successThreshold
 * successes; back after failureThreshold failures.
 */
export class ProbeState {
  ready = false;
  private successes = 0;
  private failures = 0;
  lastMessage = '';

  constructor(private readonly spec: ProbeSpec) {}

  record(r: ProbeResult): { changed: boolean; failedNow: boolean } {
    const before = this.ready;
    if (r.ok) {
      this.failures = 0;
      this.successes++;
      if (this.successes >= (this.spec.successThreshold ?? 1)) this.ready = true;
    } else {
      this.successes = 0;
      this.failures++;
      this.lastMessage = r.message;
      if (this.failures >= (this.spec.failureThreshold ?? 3)) this.ready = false;
    }
    return { changed: before !== this.ready, failedNow: !r.ok && this.failures === (this.spec.failureThreshold ?? 3) };
  }
}
