import type { Command } from 'commander';
import { parseIpv4 } from '../packet/index.js';
import type { LabState } from '../lab/index.js';
import { askAgents } from './agents.js';
import { table } from '../text/index.js';
import { CliError } from './verbs/deps.js';

/**
 * `podwire conntrack list|flush`: the agents' connection-tracking tables,
 * as `conntrack -L` / `conntrack -F` show them on a kube-proxy node: each
 * flow's original tuple (what the client sent) and reply tuple (what the
 * backend answers), the NAT the entry does, its state and time left.
 */

interface Tuple {
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

/** One entry as the agent serves it (GET /conntrack). */
export interface ConntrackRow {
  proto: string;
  state: string;
  secondsLeft: number;
  ageSeconds: number;
  orig: Tuple;
  reply: Tuple;
  /** dnat, snat, masquerade, from-underlay */
  nat: string[];
  backend?: string;
  /** [original, reply] direction */
  packets: [number, number];
  bytes: [number, number];
}

export interface ConntrackFilter {
  proto?: string;
  /** the address the client asked for: a ClusterIP, LoadBalancer or external IP, or a node IP (NodePort) */
  serviceIp?: string;
  src?: string;
  dst?: string;
  port?: number;
}

const tuple = (t: Tuple) => `${t.src}:${t.sport} -> ${t.dst}:${t.dport}`;

export function matchConntrack(r: ConntrackRow, f: ConntrackFilter): boolean {
  if (f.proto && r.proto !== f.proto.toUpperCase()) return false;
  if (f.serviceIp && r.orig.dst !== f.serviceIp) return false;
  if (f.src && r.orig.src !== f.src) return false;
  if (f.dst && r.orig.dst !== f.dst) return false;
  if (f.port !== undefined && r.orig.dport !== f.port) return false;
  return true;
}

/** The table `conntrack list` prints (rows already filtered), with conntrack's closing line. */
export function formatConntrack(rows: (ConntrackRow & { node: string })[]): string {
  const lines: string[] = [];
  if (rows.length) {
    lines.push(
      table(
        ['NODE', 'PROTO', 'STATE', 'TIMEOUT', 'ORIGINAL', 'REPLY', 'NAT', 'BACKEND', 'PACKETS', 'BYTES'],
        rows.map((r) => [
          r.node,
          r.proto,
          r.state,
          `${r.secondsLeft}s`,
          tuple(r.orig),
          tuple(r.reply),
          r.nat.join(',') || '-',
          r.backend ?? '-',
          `${r.packets[0]}/${r.packets[1]}`,
          `${r.bytes[0]}/${r.bytes[1]}`,
        ]),
      ),
    );
  }
  lines.push(`${rows.length} flow entries have been shown.`);
  return lines.join('\n');
}

function checkFilter(f: ConntrackFilter): void {
  if (f.proto && !['tcp', 'udp'].includes(f.proto.toLowerCase()))
    throw new CliError(`--proto must be tcp or udp (got "${f.proto}")`);
  for (const [flag, ip] of [
    ['--service-ip', f.serviceIp],
    ['--src', f.src],
    ['--dst', f.dst],
  ] as const) {
    if (ip === undefined) continue;
    try {
      parseIpv4(ip);
    } catch {
      throw new CliError(`${flag} must be an IPv4 address (got "${ip}")`);
    }
  }
  if (f.port !== undefined && (!Number.isInteger(f.port) || f.port < 1 || f.port > 65535))
    throw new CliError('--port must be 1..65535');
}

const byFlow = (a: ConntrackRow & { node: string }, b: ConntrackRow & { node: string }) =>
  a.node.localeCompare(b.node) ||
  a.proto.localeCompare(b.proto) ||
  tuple(a.orig).localeCompare(tuple(b.orig), 'en', { numeric: true });

export async function conntrackList(
  state: LabState,
  o: ConntrackFilter & { node?: string; json?: boolean },
): Promise<string> {
  checkFilter(o);
  const answers = await askAgents<ConntrackRow[]>(state, o.node, 'GET', '/conntrack');
  if (!answers.some((a) => a.ok))
    throw new CliError(answers.map((a) => (a.ok ? '' : `${a.node}: ${a.error}`)).join('; '), 'ERR_AGENT');
  const rows = answers
    .flatMap((a) => (a.ok ? a.body.map((r) => ({ node: a.node, ...r })) : []))
    .filter((r) => matchConntrack(r, o))
    .sort(byFlow);
  const warnings = answers.flatMap((a) => (a.ok ? [] : [`warning: ${a.node}: ${a.error}`]));
  if (o.json) return JSON.stringify(rows, null, 2);
  return [...warnings, formatConntrack(rows)].join('\n');
}

/** Delete matching entries (original tuple) on every selected agent; says how many, per node. */
export async function conntrackFlush(
  state: LabState,
  o: Omit<ConntrackFilter, 'serviceIp'> & { node?: string },
): Promise<string> {
  checkFilter(o);
  const body = { proto: o.proto, src: o.src, dst: o.dst, port: o.port };
  const answers = await askAgents<{ flushed: number }>(state, o.node, 'POST', '/conntrack/flush', body);
  if (!answers.some((a) => a.ok))
    throw new CliError(answers.map((a) => (a.ok ? '' : `${a.node}: ${a.error}`)).join('; '), 'ERR_AGENT');
  const total = answers.reduce((n, a) => n + (a.ok ? a.body.flushed : 0), 0);
  const per = answers.map((a) => (a.ok ? `${a.node}: ${a.body.flushed}` : `${a.node}: ${a.error}`)).join(', ');
  return `${total} flow entries have been deleted (${per}).`;
}

/** `podwire conntrack list|flush` (registered by main.ts). */
export function registerConntrackCommands(program: Command, readLab: () => LabState): void {
  const ct = program
    .command('conntrack')
    .description('the agents’ connection-tracking tables (conntrack -L / -F on a kube-proxy node)');
  const num = (v?: string) => (v === undefined ? undefined : Number(v));
  ct.command('list')
    .description(
      'every tracked flow: state, time left, original and reply tuple, NAT, backend, packets and bytes each way',
    )
    .option('--node <node>', 'only this node’s agent (default: all)')
    .option('--proto <p>', 'tcp or udp')
    .option(
      '--service-ip <ip>',
      'only flows the client sent to this address (a ClusterIP, LoadBalancer IP, or a node IP for NodePorts)',
    )
    .option('--src <ip>', 'original source')
    .option('--dst <ip>', 'original destination')
    .option('--port <n>', 'original destination port')
    .option('-o, --output <fmt>', 'json')
    .addHelpText(
      'after',
      '\nExamples:\n  podwire conntrack list\n  podwire conntrack list --service-ip 10.96.1.2 --node node1',
    )
    .action(
      async (o: {
        node?: string;
        proto?: string;
        serviceIp?: string;
        src?: string;
        dst?: string;
        port?: string;
        output?: string;
      }) => {
        if (o.output && o.output !== 'json') throw new CliError('-o must be json');
        process.stdout.write(
          `${await conntrackList(readLab(), { ...o, port: num(o.port), json: o.output === 'json' })}\n`,
        );
      },
    );
  ct.command('flush')
    .description(
      'delete tracked flows (all, or those matching): their next packet is a new flow and may pick another backend',
    )
    .option('--node <node>', 'only this node’s agent (default: all)')
    .option('--proto <p>', 'tcp or udp')
    .option('--src <ip>', 'original source')
    .option('--dst <ip>', 'original destination (e.g. a ClusterIP)')
    .option('--port <n>', 'original destination port')
    .addHelpText(
      'after',
      '\nExamples:\n  podwire conntrack flush\n  podwire conntrack flush --proto udp --dst 10.96.0.10 --port 53',
    )
    .action(async (o: { node?: string; proto?: string; src?: string; dst?: string; port?: string }) => {
      process.stdout.write(`${await conntrackFlush(readLab(), { ...o, port: num(o.port) })}\n`);
    });
}
