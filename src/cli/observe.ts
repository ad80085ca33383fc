import http from 'node:http';
import { agentSocketPath } from '../agent/agent.js';
import { labPods, type LabState } from '../lab/index.js';
import { formatFlow, matchFlow, type FlowEvent, type FlowFilter } from '../observe/index.js';
import { onJsonLines } from './json-lines.js';

export interface ObserveOptions extends Omit<FlowFilter, 'podIps'> {
  json?: boolean;
  count?: number;
  durationS?: number;
  onReady?: () => void;
  print?: (line: string) => void;
}

/** `podwire observe`: merge every agent's flow events, filter, print; resolves with the events printed. */
export async function observe(state: LabState, opts: ObserveOptions): Promise<FlowEvent[]> {
  const pods = await labPods(state);
  const byIp = new Map(pods.map((p) => [p.ip, p.name]));
  const nodeByIp = new Map(state.plan.nodes.map((n) => [n.ip, n.name]));
  let podIps: Set<string> | undefined;
  if (opts.pod) {
    const p = pods.find((x) => x.name === opts.pod);
    if (!p) throw new Error(`pod "${opts.pod}" not found`);
    podIps = new Set([p.ip]);
  }
  const nodes = state.plan.nodes.filter((n) => !opts.node || n.name === opts.node);
  if (!nodes.length) throw new Error(`no node "${opts.node}" in lab ${state.plan.prefix}`);
  const print = opts.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  const seen: FlowEvent[] = [];
  return new Promise((resolve, reject) => {
    const reqs: http.ClientRequest[] = [];
    let ready = 0;
    let failed = 0;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      for (const r of reqs) r.destroy();
      resolve(seen);
    };
    if (opts.durationS) setTimeout(finish, opts.durationS * 1000).unref();
    for (const n of nodes) {
      // ready once every agent has answered or been reported down
      const settle = () => {
        if (ready + failed === nodes.length && ready > 0) opts.onReady?.();
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
          print(opts.json ? JSON.stringify(e) : formatFlow(e, (ip) => byIp.get(ip)));
          if (opts.count && seen.length >= opts.count) finish();
        });
      });
      req.on('error', (err) => {
        if (finished || (err as NodeJS.ErrnoException).code === 'ECONNRESET') return;
        // one node's agent being down is worth a line, not the end of observing the others
        process.stderr.write(`warning: ${n.name}'s agent is not answering (${(err as Error).message}); observing the others\n`);
        if (++failed === nodes.length) reject(new Error('no agent is answering: is the lab up? (podwire lab status)'));
        else settle();
      });
      reqs.push(req);
    }
  });
}
