import type { Command } from 'commander';
import type { LabState } from '../lab/index.js';
import { askAgents } from './agents.js';
import { table } from '../text/index.js';
import { CliError } from './verbs/deps.js';

/**
 * `podwire lb show`: each agent's Service table as its dataplane holds it —
 * frontends, the scheduler and policies that decide for new flows, and the
 * backends with their state and counters — shaped after Cilium's
 * `cilium service list` (a frontend per row group, its backends numbered
 * below it). In linear proxy mode the same rules as iptables-save prints
 * them. The agent serves the data (GET /lb, /lb/service?name=); this file
 * only prints it.
 */

export interface LbBackendStatus {
  name: string;
  address: string;
  node: string | null;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** new flows may go to it (after the traffic policy) */
  usable: boolean;
  weight: number;
  connections: number;
  active: number;
  packets: number;
  bytes: number;
}

export interface LbFrontendStatus {
  frontend: string;
  type: string;
  portName: string;
  scheduler: string;
  affinityTimeoutSeconds: number;
  localOnly: boolean;
  snat: boolean;
  backends: LbBackendStatus[];
  maglevShares?: { tableSize: number; slots: Record<string, number> };
}

export interface LbStatus {
  node: string;
  mode: 'hash' | 'linear';
  defaultScheduler: string;
  services: { service: string; frontends: LbFrontendStatus[] }[];
  conntrack: { entries: number; max: number; created: number; expired: number; insertFailed: number };
  stats: { newServiceFlows: number; newMasqueradeFlows: number; rejected: number; affinityHits: number };
  rulesExamined?: { last: number; total: number; lookups: number };
  iptablesSave?: string;
  restoredEntries?: number;
}

/** ready | terminating,serving | terminating | not-ready (the EndpointSlice conditions, in words) */
export function backendState(b: Pick<LbBackendStatus, 'ready' | 'serving' | 'terminating'>): string {
  if (b.terminating) return b.serving ? 'terminating,serving' : 'terminating';
  return b.ready ? 'ready' : 'not-ready';
}

/** What decides besides the scheduler: ClientIP affinity, a Local traffic policy, SNAT of new flows. */
export function frontendPolicy(f: LbFrontendStatus): string {
  const p: string[] = [];
  if (f.affinityTimeoutSeconds > 0) p.push(`affinity=ClientIP/${f.affinityTimeoutSeconds}s`);
  if (f.localOnly) p.push(f.type === 'ClusterIP' ? 'ITP=Local' : 'ETP=Local');
  if (f.snat) p.push('SNAT');
  return p.join(',') || '-';
}

const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1)}%`;

/** One agent's table, exactly as `lb show` prints it. */
export function formatLbStatus(s: LbStatus): string {
  const maglev = s.services.some((svc) => svc.frontends.some((f) => f.maglevShares));
  const head = [
    'SERVICE',
    'FRONTEND',
    'TYPE',
    'SCHEDULER',
    'POLICY',
    'BACKEND',
    'STATE',
    'NODE',
    'CONNS',
    'ACTIVE',
    'PACKETS',
    'BYTES',
    ...(maglev ? ['MAGLEV-SLOTS'] : []),
  ];
  const rows: string[][] = [];
  for (const svc of s.services) {
    svc.frontends.forEach((f, fi) => {
      const front = [fi === 0 ? svc.service : '', f.frontend, f.type, f.scheduler, frontendPolicy(f)];
      const blank = front.map(() => '');
      if (!f.backends.length) {
        rows.push([...front, '(no endpoints)', '', '', '', '', '', '', ...(maglev ? [''] : [])]);
        return;
      }
      f.backends.forEach((b, i) => {
        const slots = f.maglevShares?.slots[b.name];
        rows.push([
          ...(i === 0 ? front : blank),
          `${i + 1} => ${b.address}${b.name !== b.address ? ` (${b.name})` : ''}${b.weight !== 1 ? ` w=${b.weight}` : ''}`,
          // not usable: new flows do not go there (a Local traffic policy and another node, or ready ones exist beside it)
          `${backendState(b)}${b.usable ? '' : ' (unused)'}`,
          b.node ?? '-',
          String(b.connections),
          String(b.active),
          String(b.packets),
          String(b.bytes),
          ...(maglev
            ? [slots !== undefined && f.maglevShares ? `${slots} (${pct(slots, f.maglevShares.tableSize)})` : '-']
            : []),
        ]);
      });
    });
  }
  const ct = s.conntrack;
  const st = s.stats;
  const lines = [
    `${s.node}: ${s.services.length} Service(s), ${s.mode} mode, default scheduler ${s.defaultScheduler}`,
    rows.length ? table(head, rows) : '(no Services)',
    `conntrack: ${ct.entries} of ${ct.max} entries (created ${ct.created}, expired ${ct.expired}, insert failed ${ct.insertFailed}); new Service flows ${st.newServiceFlows}, masqueraded ${st.newMasqueradeFlows}, rejected ${st.rejected}, affinity hits ${st.affinityHits}`,
  ];
  if (s.rulesExamined)
    lines.push(
      `linear mode: the last lookup examined ${s.rulesExamined.last} rules; ${s.rulesExamined.total} over ${s.rulesExamined.lookups} lookups`,
    );
  if (s.iptablesSave)
    lines.push(
      '',
      `# ${s.mode === 'linear' ? 'the rules this agent walks (linear mode), as' : 'what'} kube-proxy's iptables mode would write:`,
      s.iptablesSave.trimEnd(),
    );
  return lines.join('\n');
}

export interface LbShowOptions {
  service?: string;
  node?: string;
  json?: boolean;
  /** with a Service: also what kube-proxy (iptables mode) would write */
  iptables?: boolean;
}

/** Ask the agents and print; throws when no agent could answer or the Service is on none of them. */
export async function lbShow(state: LabState, o: LbShowOptions): Promise<string> {
  const path = o.service
    ? `/lb/service?name=${encodeURIComponent(o.service)}${o.iptables ? '&iptables=1' : ''}`
    : '/lb';
  const answers = await askAgents<LbStatus>(state, o.node, 'GET', path);
  const got = answers.flatMap((a) => (a.ok ? [a.body] : []));
  if (!got.length)
    throw new CliError(answers.map((a) => (a.ok ? '' : `${a.node}: ${a.error}`)).join('; '), 'ERR_AGENT');
  if (o.service && got.every((s) => s.services.length === 0))
    throw new CliError(
      `no Service "${o.service}" on ${got.map((s) => s.node).join(', ')} (name or namespace/name; headless and ExternalName Services are not proxied)`,
    );
  if (o.json) return JSON.stringify(got, null, 2);
  return answers.map((a) => (a.ok ? formatLbStatus(a.body) : `${a.node}: ${a.error}`)).join('\n\n');
}

/** `podwire lb show` (registered by main.ts). */
export function registerLbCommands(program: Command, readLab: () => LabState): void {
  const lb = program.command('lb').description('the Service load balancer each agent runs (kube-proxy’s part)');
  lb.command('show [service]')
    .description(
      'frontends, scheduler and policies, backends with state and counters, Maglev slot shares; iptables-save text in linear mode',
    )
    .option('--node <node>', 'only this node’s agent (default: all)')
    .option('-o, --output <fmt>', 'json')
    .option(
      '--iptables',
      'with a Service: also the rules kube-proxy’s iptables mode would write for it (a chain walked rule by rule)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  podwire lb show\n  podwire lb show backend --node node1\n  podwire lb show web --node node1 --iptables\n  podwire lb show default/frontend -o json',
    )
    .action(async (service: string | undefined, o: { node?: string; output?: string; iptables?: boolean }) => {
      if (o.output && o.output !== 'json') throw new CliError('-o must be json');
      if (o.iptables && !service)
        throw new CliError('--iptables needs a Service: podwire lb show <service> --iptables');
      process.stdout.write(
        `${await lbShow(readLab(), { service, node: o.node, json: o.output === 'json', iptables: o.iptables })}\n`,
      );
    });
}
