import http from 'node:http';
import fs from 'node:fs';
import { agentSocketPath } from '../agent/agent.js';
import type { LabState } from '../lab/index.js';

/**
 * Stream a pcapng capture from an agent to a file or stdout, stopping after
 * `count` packets or `durationS` seconds (or never). Counts packets by
 * walking the pcapng block headers as they arrive.
 */
export function captureDrops(state: LabState, node: string, out: string, opts: { count?: number; durationS?: number; onReady?: () => void }): Promise<number> {
  const n = state.plan.nodes.find((x) => x.name === node);
  if (!n) throw new Error(`no node "${node}" in lab ${state.plan.prefix}`);
  const sink = out === '-' ? process.stdout : fs.createWriteStream(out);
  return new Promise((resolve, reject) => {
    let packets = 0;
    let pending = Buffer.alloc(0);
    const req = http.get({ socketPath: agentSocketPath(n.stateDir), path: '/capture/drops' }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`agent answered ${res.statusCode}`));
      opts.onReady?.();
      const finish = () => {
        req.destroy();
        if (sink !== process.stdout) (sink as fs.WriteStream).end(() => resolve(packets));
        else resolve(packets);
      };
      if (opts.durationS) setTimeout(finish, opts.durationS * 1000).unref();
      res.on('data', (chunk: Buffer) => {
        sink.write(chunk);
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 8) {
          const total = pending.readUInt32LE(4);
          if (total < 12 || pending.length < total) break;
          if (pending.readUInt32LE(0) === 6) packets++;
          pending = pending.subarray(total);
        }
        if (opts.count && packets >= opts.count) finish();
      });
      res.on('end', finish);
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
  });
}
