import type { Command } from 'commander';
import { observe } from '../../lab/index.js';
import { relayL7Events } from '../../observe/index.js';
import type { CliDeps } from './deps.js';

/** `podwire observe`: the live flow log (and the hidden relay of the ingress controllers' L7 events). */
export function register(program: Command, deps: CliDeps): void {
  program
    .command('observe')
    .description(
      'live flow log from every agent, like hubble observe: new flows, TCP flags, per-second updates, every drop with its reason',
    )
    .option('--node <node>', 'only this node’s agent')
    .option('--pod <pod>', 'only flows from or to this pod')
    .option(
      '--verdict <v>',
      'FORWARDED, DROPPED or TRANSLATED (a new flow through a Service or masquerade); for HTTP also REDIRECTED',
    )
    .option(
      '--service <name>',
      'only a Service’s translations, the flows they start and drops about it (name or namespace/name)',
    )
    .option(
      '--policy <name>',
      'only a NetworkPolicy’s verdicts: connections it allowed (policy-verdict) and drops of the pods it isolates (name or namespace/name)',
    )
    .option('--port <n>', 'only flows with this source or destination port')
    .option(
      '--dns',
      'only DNS: each query (name, type, the search expansion it looks like) and answer (rcode, records, latency), and queries left unanswered',
    )
    .option(
      '--http',
      'only the ingress controllers’ L7 hop: each request as http-request/http-response (route matched, backend chosen, status, latency); without it they are merged with the flows',
    )
    .option('-o, --output <fmt>', 'json for one JSON object per line')
    .option('-c, --count <n>', 'stop after n events')
    .option('--duration <s>', 'stop after s seconds')
    .addHelpText(
      'after',
      '\nExamples:\n  podwire observe --verdict DROPPED\n  podwire observe --pod client -o json\n  podwire observe --service backend\n  podwire observe --verdict DROPPED --policy default-deny\n  podwire observe --dns --pod client\n  podwire observe --http --verdict DROPPED      # requests the ingress controller answered itself (404, 503, 429 …)',
    )
    .action(
      async (o: {
        node?: string;
        pod?: string;
        verdict?: string;
        service?: string;
        policy?: string;
        port?: string;
        dns?: boolean;
        http?: boolean;
        output?: string;
        count?: string;
        duration?: string;
      }) => {
        if (o.verdict && !['FORWARDED', 'DROPPED', 'TRANSLATED', 'REDIRECTED'].includes(o.verdict.toUpperCase()))
          throw deps.fail('--verdict must be FORWARDED, DROPPED, TRANSLATED or REDIRECTED');
        if (o.http && o.dns) throw deps.fail('--http and --dns select different events: choose one');
        await observe(deps.requireLab(), {
          node: o.node,
          pod: o.pod,
          verdict: o.verdict,
          service: o.service,
          policy: o.policy,
          port: o.port ? Number(o.port) : undefined,
          dns: o.dns,
          http: o.http,
          json: o.output === 'json',
          count: o.count ? Number(o.count) : undefined,
          durationS: o.duration ? Number(o.duration) : undefined,
          onReady: () => deps.io.err(`observing ${o.http ? 'HTTP requests' : 'flows'} (Ctrl-C to stop)\n`),
        });
      },
    );
  program
    .command('observe-l7-relay', { hidden: true })
    .requiredOption('--port <n>')
    .action(async (o: { port: string }) => {
      process.exitCode = await relayL7Events({ port: Number(o.port) });
    });
}
