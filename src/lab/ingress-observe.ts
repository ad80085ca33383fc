import { startProcess, inNetns, type ChildProcess } from '../host/index.js';
import { ApiClient } from '../control/client/index.js';
import { CLI_ENTRY, type LabState } from './lab.js';
import { labPods } from './pods.js';
import type { HttpEvent } from '../ingress/index.js';
import type { L7Record } from '../observe/index.js';
import { controllerPods, labApiServer, type ControllerPod } from './ingress-controllers.js';

/**
 * observe's L7 source: the ingress controller pods' event streams
 * (:10254/podwire/events), each read by a relay that `observe` starts in
 * the controller pod's network namespace (src/observe/l7-relay.ts says why
 * there and why this stream). Controller pods are found through the API
 * server by their image, again every few seconds, so a controller that
 * starts or restarts while observing is picked up.
 */
export interface L7FollowOptions {
  onEvent(r: L7Record): void;
  onWarning(msg: string): void;
  /** how often to look for new controller pods */
  rescanMs?: number;
}

export interface L7Follow {
  /** resolves once every controller pod found at the start is subscribed (or failed): how many are */
  ready: Promise<number>;
  close(): void;
}

interface Relay {
  pod: ControllerPod;
  child: ChildProcess;
  subscribed: boolean;
}

export function followL7(state: LabState, o: L7FollowOptions): L7Follow {
  const server = labApiServer(state);
  const relays = new Map<string, Relay>();
  const warned = new Set<string>();
  let listFailed = false;
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  const client = server ? new ApiClient(server) : null;

  const start = (pod: ControllerPod): Promise<void> =>
    new Promise((settled) => {
      const child = startProcess(
        inNetns(pod.netns!, [process.execPath, CLI_ENTRY, 'observe-l7-relay', '--port', String(pod.args.healthzPort)]),
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      const r: Relay = { pod, child, subscribed: false };
      relays.set(pod.key, r);
      let pending = '';
      let err = '';
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          let ev: (HttpEvent & { dropped?: number }) | { type: string };
          try {
            ev = JSON.parse(line);
          } catch {
            continue;
          }
          if (ev.type === 'subscribed') {
            r.subscribed = true;
            settled();
          } else if (ev.type === 'http' && !closed) {
            const e = ev as HttpEvent & { dropped?: number };
            if (e.dropped) o.onWarning(`${pod.key}: ${e.dropped} L7 event(s) lost (observe read too slowly)`);
            o.onEvent({ event: e, controller: { name: pod.key, ip: pod.ip } });
          }
        }
      });
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.stdin!.on('error', () => {});
      child.on('exit', () => {
        if (relays.get(pod.key) === r) relays.delete(pod.key);
        if (!closed && err.trim()) o.onWarning(`ingress controller ${pod.key}: ${err.trim().split('\n').pop()}`);
        settled();
      });
    });

  const scan = async (): Promise<number> => {
    if (!client) return 0;
    let pods: ControllerPod[];
    try {
      pods = await controllerPods(client, await labPods(state));
    } catch (e) {
      // said once, not at every rescan, until listing works again
      if (!listFailed) o.onWarning(`cannot list the ingress controller pods: ${(e as Error).message}`);
      listFailed = true;
      return 0;
    }
    listFailed = false;
    const fresh = pods.filter((p) => p.netns && !relays.has(p.key));
    for (const p of pods.filter((x) => !x.netns && !warned.has(x.key))) {
      warned.add(p.key);
      o.onWarning(`ingress controller ${p.key} is on no agent of this lab: its L7 events are not shown`);
    }
    await Promise.all(fresh.map((p) => (closed ? Promise.resolve() : start(p))));
    return [...relays.values()].filter((r) => r.subscribed).length;
  };

  const loop = () => {
    if (closed) return;
    timer = setTimeout(() => void scan().finally(loop), o.rescanMs ?? 5000);
    timer.unref();
  };
  const ready = scan().finally(loop);
  return {
    ready,
    close: () => {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const r of relays.values()) {
        r.child.stdin?.end();
        r.child.kill('SIGTERM');
      }
      relays.clear();
      client?.close();
    },
  };
}
