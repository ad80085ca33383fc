import type { Command } from 'commander';
import { callAgent, agentSocketPath } from '../../agent/index.js';
import { describeDropReason, type DropReason } from '../../dataplane/index.js';
import { table } from '../../text/index.js';
import type { CliDeps } from './deps.js';

/** `podwire drops`: each agent's drop counters by reason. */
export function register(program: Command, deps: CliDeps): void {
  const say = deps.say;
  program
    .command('drops')
    .description('what each agent has dropped so far, by reason, with what the reason means')
    .option('--node <node>', 'only this node')
    .action(async (o: { node?: string }) => {
      const state = deps.requireLab();
      const rows: string[][] = [];
      for (const n of state.plan.nodes.filter((x) => !o.node || x.name === o.node)) {
        const r = await callAgent(agentSocketPath(n.stateDir), 'GET', '/drops', undefined, 3000).catch(() => null);
        if (!r || r.status !== 200) {
          rows.push([n.name, '-', '-', 'agent not answering']);
          continue;
        }
        for (const [reason, count] of Object.entries(r.body as Record<string, number>)) {
          if (count > 0) rows.push([n.name, reason, String(count), describeDropReason(reason as DropReason)]);
        }
      }
      say(rows.length ? table(['NODE', 'REASON', 'DROPS', 'MEANING'], rows) : 'no drops');
    });
}
