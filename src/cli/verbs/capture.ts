import type { Command } from 'commander';
import { findPod, captureDrops, captureInNamespace, captureNat } from '../../lab/index.js';
import { captureInterface, parseCaptureFilter, type CaptureFilter } from '../../capture/index.js';
import type { CliDeps } from './deps.js';

/** `podwire capture` (and the hidden capture-here it runs in a namespace): pcapng from any point. */
export function register(program: Command, deps: CliDeps): void {
  program
    .command('capture')
    .description(
      'write pcapng (or pcap) from any point: a pod’s eth0, a node’s cbr0 or eth0, the underlay, what an agent’s pipeline drops (each with its reason as the packet comment), or its NAT (before/after)',
    )
    .option('--pod <pod>', 'the pod’s eth0')
    .option('--node <node>', 'a node: with --if cbr0|eth0, or --drops')
    .option('--if <if>', 'cbr0 (the pods’ bridge) or eth0 (the node’s underlay link, VXLAN visible)')
    .option('--underlay', 'the lab’s underlay bridge: every node’s VXLAN traffic')
    .option('--drops', 'with --node: frames the agent’s pipeline dropped, with the reason as comment')
    .option(
      '--nat',
      'with --node: every packet the agent’s Service stage translates, before and after the rewrite (comments pre-nat / post-nat)',
    )
    .option('--pre', 'with --nat: only the packets as they were before NAT')
    .option('--post', 'with --nat: only the packets as NAT left them')
    .option('--proto <p>', 'tcp | udp | icmp | arp | vxlan (inside VXLAN too)')
    .option('--port <n>', 'source or destination port (inside VXLAN too)')
    .option('--host <ip>', 'source or destination address (inside VXLAN too)')
    .option('--format <f>', 'pcapng or pcap', 'pcapng')
    .option('-w, --write <file>', 'output file, or - for stdout (pipe into tshark -i -)', '-')
    .option('-c, --count <n>', 'stop after n packets')
    .option('--duration <s>', 'stop after s seconds')
    .addHelpText(
      'after',
      '\nExamples:\n  podwire capture --underlay --host 10.244.2.2 -w overlay.pcapng -c 20\n  podwire capture --pod client --proto icmp -w - | tshark -i -\n  podwire capture --node node1 --drops -w drops.pcapng\n  podwire capture --node node1 --nat --host 10.96.1.2 -w nat.pcapng',
    )
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const state = deps.requireLab();
      const count = o.count ? Number(o.count) : undefined;
      const durationS = o.duration ? Number(o.duration) : undefined;
      const out = String(o.write);
      const points = [o.pod, o.underlay, o.node].filter(Boolean).length;
      if (points !== 1)
        throw deps.fail(
          'choose one capture point: --pod <pod>, --node <node> (with --if, --drops or --nat), or --underlay',
        );
      if (o.format !== 'pcapng' && o.format !== 'pcap') throw deps.fail('--format must be pcapng or pcap');
      if (o.nat) {
        if (!o.node || o.drops || o.if) throw deps.fail('--nat goes with --node only (not --drops or --if)');
        if (o.format === 'pcap') throw deps.fail('pre-nat / post-nat are pcapng packet comments: use --format pcapng');
        if (o.pre && o.post) throw deps.fail('--pre and --post together are the default: leave both out');
        const filter = parseCaptureFilter({
          proto: o.proto as string | undefined,
          port: o.port as string | undefined,
          host: o.host as string | undefined,
        });
        const side = o.pre ? 'pre' : o.post ? 'post' : 'both';
        const n = await captureNat(state, String(o.node), out, {
          side,
          filter,
          count,
          durationS,
          onReady: () =>
            deps.io.err(
              `capturing ${side === 'both' ? 'before and after' : side === 'pre' ? 'before' : 'after'} NAT on ${o.node}'s pipeline\n`,
            ),
        });
        if (out !== '-') deps.io.err(`${n} packets captured to ${out}\n`);
        return;
      }
      if (o.pre || o.post) throw deps.fail('--pre and --post go with --nat');
      if (o.drops) {
        if (!o.node) throw deps.fail('--drops goes with --node');
        if (o.format === 'pcap') throw deps.fail('drop reasons are pcapng packet comments: use --format pcapng');
        if (o.proto || o.port || o.host) throw deps.fail('filters apply to interface captures, not --drops');
        const n = await captureDrops(state, String(o.node), out, {
          count,
          durationS,
          onReady: () => deps.io.err(`capturing drops on ${o.node}'s pipeline\n`),
        });
        if (out !== '-') deps.io.err(`${n} packets captured to ${out}\n`);
        return;
      }
      const filter = parseCaptureFilter({
        proto: o.proto as string | undefined,
        port: o.port as string | undefined,
        host: o.host as string | undefined,
      });
      let ns: string;
      let ifname: string;
      let label: string;
      if (o.pod) {
        const pod = await findPod(state, String(o.pod));
        if (!pod) throw deps.fail(`pod "${o.pod}" not found`);
        [ns, ifname, label] = [pod.netns, 'eth0', `${pod.name}/eth0`];
      } else if (o.underlay) {
        [ns, ifname, label] = [state.plan.underlayNs, state.plan.underlayBridge, 'underlay'];
      } else {
        const node = state.plan.nodes.find((n) => n.name === o.node);
        if (!node) throw deps.fail(`no node "${o.node}"`);
        if (o.if !== 'cbr0' && o.if !== 'eth0') throw deps.fail('with --node, say --if cbr0 or --if eth0 (or --drops)');
        [ns, ifname, label] = [node.ns, String(o.if), `${node.name}/${o.if}`];
      }
      // like tcpdump's "listening on ...": says when packets are really being captured
      const onReady = () =>
        deps.io.err(
          `capturing on ${label}${o.proto || o.port || o.host ? ` (${[o.proto, o.port && `port ${o.port}`, o.host && `host ${o.host}`].filter(Boolean).join(', ')})` : ''}\n`,
        );
      const n = await captureInNamespace({
        ns,
        ifname,
        label,
        format: o.format,
        filter,
        count,
        durationS,
        out,
        promiscuous: Boolean(o.underlay),
        onReady,
      });
      if (out !== '-') deps.io.err(`${n} packets captured to ${out}\n`);
    });

  program
    .command('capture-here', { hidden: true })
    .description('capture on an interface of the current network namespace, to stdout (used by capture)')
    .requiredOption('--if <if>')
    .requiredOption('--label <label>')
    .option('--format <f>', 'pcapng or pcap', 'pcapng')
    .option('--filter <json>', 'CaptureFilter as JSON', '{}')
    .option('--promisc')
    .option('-c, --count <n>')
    .action(
      async (o: {
        if: string;
        label: string;
        format: 'pcapng' | 'pcap';
        filter: string;
        promisc?: boolean;
        count?: string;
      }) => {
        const cap = captureInterface({
          ifname: o.if,
          label: o.label,
          format: o.format,
          filter: JSON.parse(o.filter) as CaptureFilter,
          promiscuous: o.promisc,
          count: o.count ? Number(o.count) : undefined,
          write: (chunk) => deps.io.out(chunk),
        });
        process.once('SIGINT', () => cap.stop());
        process.once('SIGTERM', () => cap.stop());
        deps.io.onOutError(() => cap.stop()); // reader went away (EPIPE)
        const n = await cap.done;
        deps.io.err(`captured ${n}\n`);
      },
    );
}
