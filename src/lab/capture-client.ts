import http from 'node:http';
import fs from 'node:fs';
import { startProcess } from '../host/index.js';
import { agentSocketPath } from '../agent/index.js';
import { CLI_ENTRY, type LabState } from './lab.js';
import type { CaptureFilter, NatSide } from '../capture/index.js';
import { LabError } from './errors.js';

/**
 * Stream a pcapng capture from an agent to a file or stdout, stopping after
 * `count` packets or `durationS` seconds (or never). Counts packets by
 * walking the pcapng block headers as they arrive.
 */
function captureFromAgent(
  state: LabState,
  node: string,
  path: string,
  out: string,
  opts: { count?: number; durationS?: number; onReady?: () => void },
): Promise<number> {
  const n = state.plan.nodes.find((x) => x.name === node);
  if (!n) throw new LabError('ERR_NO_SUCH_NODE', `no node "${node}" in lab ${state.plan.prefix}`);
  return new Promise((resolve, reject) => {
    let packets = 0;
    let pending = Buffer.alloc(0);
    const req = http.get({ socketPath: agentSocketPath(n.stateDir), path }, (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => reject(new Error(`agent answered ${res.statusCode}: ${body.slice(0, 200)}`)));
        return;
      }
      const sink = out === '-' ? process.stdout : fs.createWriteStream(out);
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

/** What an agent's pipeline drops, each frame with its reason as the packet comment. */
export function captureDrops(
  state: LabState,
  node: string,
  out: string,
  opts: { count?: number; durationS?: number; onReady?: () => void },
): Promise<number> {
  return captureFromAgent(state, node, '/capture/drops', out, opts);
}

/**
 * The capture point around an agent's NAT: every translated packet before
 * (`pre-nat`) and/or after (`post-nat`) its rewrite, as pcapng packet
 * comments. A filter keeps a pair when either side matches.
 */
export function captureNat(
  state: LabState,
  node: string,
  out: string,
  opts: { side?: NatSide; filter?: CaptureFilter; count?: number; durationS?: number; onReady?: () => void },
): Promise<number> {
  const q = new URLSearchParams({ side: opts.side ?? 'both', filter: JSON.stringify(opts.filter ?? {}) });
  return captureFromAgent(state, node, `/capture/nat?${q}`, out, opts);
}

/**
 * Capture on an interface inside a namespace: runs `podwire capture-here`
 * there (`ip netns exec`) and streams its pcap(ng) to a file or stdout.
 */
export function captureInNamespace(o: {
  ns: string;
  ifname: string;
  label: string;
  format: string;
  filter: CaptureFilter;
  count?: number;
  durationS?: number;
  out: string;
  promiscuous?: boolean;
  onReady?: () => void;
  /** stop the capture early (as Ctrl-C does) */
  signal?: AbortSignal;
}): Promise<number> {
  const args = [
    'netns',
    'exec',
    o.ns,
    process.execPath,
    CLI_ENTRY,
    'capture-here',
    '--if',
    o.ifname,
    '--label',
    o.label,
    '--format',
    o.format,
    '--filter',
    JSON.stringify(o.filter),
  ];
  if (o.count) args.push('--count', String(o.count));
  if (o.promiscuous) args.push('--promisc');
  const child = startProcess(['ip', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const sink = o.out === '-' ? process.stdout : fs.createWriteStream(o.out);
  const flushed =
    sink === process.stdout
      ? Promise.resolve()
      : new Promise<void>((r) => (sink as fs.WriteStream).once('finish', () => r()));
  child.stdout!.pipe(sink as NodeJS.WritableStream, { end: o.out !== '-' });
  let err = '';
  // The duration counts from the file header (the socket is open), not from
  // the spawn: a loaded machine may take seconds to start the capturer.
  let timer: NodeJS.Timeout | null = null;
  child.stdout!.once('data', () => {
    if (o.durationS) timer = setTimeout(() => child.kill('SIGINT'), o.durationS * 1000);
    o.onReady?.();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const forward = () => child.kill('SIGINT');
  process.once('SIGINT', forward);
  if (o.signal?.aborted) forward();
  else o.signal?.addEventListener('abort', forward, { once: true });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      process.removeListener('SIGINT', forward);
      const m = /captured (\d+)/.exec(err);
      if (!m) return reject(new Error(`capture failed (exit ${code}): ${err.trim() || 'no output'}`));
      void flushed.then(() => resolve(Number(m[1])));
    });
  });
}
