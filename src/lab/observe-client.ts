import http from 'node:http';
import { agentSocketPath } from '../agent/index.js';
import { labPods } from './pods.js';
import type { LabState } from './lab.js';
import {
  formatFlow,
  matchFlow,
  type FlowEvent,
  type FlowFilter,
  formatHttpEvent,
  l7Verdict,
  matchHttp,
} from '../observe/index.js';
import { onJsonLines } from './json-lines.js';
import { followL7 } from './ingress-observe.js';
import { LabError } from './errors.js';

export interface ObserveOptions extends Omit<FlowFilter, 'podIps'> {
  json?: boolean;
  /** only the ingress controllers' L7 events (without it they are merged with the agents' flows) */
  http?: boolean;
  count?: number;
  durationS?: number;
  onReady?: () => void;
  print?: (line: string) => void;
  /** stop observing when aborted (a caller that watches while it acts, rather than for a fixed time) */
  signal?: AbortSignal;
}

/**
 * `podwire observe`: merge every agent's flow events and the ingress
 * controllers' L7 events (ingress-observe.ts), filter, print; resolves with
 * the flow events printed (--count counts HTTP requests too).
 */
export async function observe(state: LabState, opts: ObserveOptions): Promise<FlowEvent[]> {
  const pods = await labPods(state);
  const byIp = new Map(pods.map((p) => [p.ip, p.name]));
  const nodeByIp = new Map(state.plan.nodes.map((n) => [n.ip, n.name]));
  let podIps: Set<string> | undefined;
  if (opts.pod) {
    const p = pods.find((x) => x.name === opts.pod);
    if (!p) throw new LabError('ERR_NO_SUCH_POD', `pod "${opts.pod}" not found`);
    podIps = new Set([p.ip]);
  }
  const nodes = state.plan.nodes.filter((n) => !opts.node || n.name === opts.node);
  if (!nodes.length) throw new LabError('ERR_NO_SUCH_NODE', `no node "${opts.node}" in lab ${state.plan.prefix}`);
  const print = opts.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  const seen: FlowEvent[] = [];
  let printed = 0;
  // L7 events answer no --dns or --policy question: their streams are not opened then
  const withL7 = opts.http || (!opts.dns && !opts.policy);
  const agents = opts.http ? [] : nodes;
  return new Promise((resolve, reject) => {
    const reqs: http.ClientRequest[] = [];
    let ready = 0;
    let failed = 0;
    let finished = false;
    let agentsReady!: () => void;
    const agentsSettled = agents.length ? new Promise<void>((r) => (agentsReady = r)) : Promise.resolve();
    const l7 = withL7
      ? followL7(state, {
          onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
          onEvent: (r) => {
            if (finished || !matchHttp(r, { ...opts, podIps })) return;
            printed++;
            if (opts.json)
              print(JSON.stringify({ ...r.event, controller: r.controller.name, verdict: l7Verdict(r.event) }));
            else for (const l of formatHttpEvent(r, (ip) => byIp.get(ip))) print(l);
            if (opts.count && printed >= opts.count) finish();
          },
        })
      : null;
    const finish = () => {
      if (finished) return;
      finished = true;
      for (const r of reqs) r.destroy();
      l7?.close();
      resolve(seen);
    };
    if (opts.signal?.aborted) return finish();
    opts.signal?.addEventListener('abort', finish, { once: true });
    // --duration counts from "observing": starting the controllers' relays can take seconds on a
    // loaded machine, and a window that closed before it opened would observe nothing
    void Promise.all([agentsSettled, l7?.ready]).then(([, controllers]) => {
      if (finished) return;
      if (opts.http && !controllers)
        process.stderr.write(
          'warning: no ingress controller pod answers yet (is the ingress add-on applied? podwire ingress-addon --apply); still looking\n',
        );
      if (opts.durationS) setTimeout(finish, opts.durationS * 1000).unref();
      opts.onReady?.();
    });
    for (const n of agents) {
      // ready once every agent has answered or been reported down
      const settle = () => {
        if (ready + failed === agents.length && ready > 0) agentsReady();
      };
      const req = http.get({ socketPath: agentSocketPath(n.stateDir), path: '/observe' }, (res) => {
        ready++;
        settle();
        onJsonLines(res, (o) => {
          if (finished) return false;
          const e = o as FlowEvent;
          if (!matchFlow(e, { ...opts, podIps })) return;
          if (e.peerNode) e.peerNode = nodeByIp.get(e.peerNode) ?? e.peerNode;
          seen.push(e);
          printed++;
          print(opts.json ? JSON.stringify(e) : formatFlow(e, (ip) => byIp.get(ip)));
          if (opts.count && printed >= opts.count) finish();
        });
      });
      req.on('error', (err) => {
        if (finished || (err as NodeJS.ErrnoException).code === 'ECONNRESET') return;
        // one node's agent being down is worth a line, not the end of observing the others
        process.stderr.write(
          `warning: ${n.name}'s agent is not answering (${(err as Error).message}); observing the others\n`,
        );
        if (++failed === agents.length) {
          l7?.close();
          reject(new Error('no agent is answering: is the lab up? (podwire lab status)'));
        } else settle();
      });
      reqs.push(req);
    }
  });
}
