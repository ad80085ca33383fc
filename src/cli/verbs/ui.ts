import type { Command } from 'commander';
import { startUiServer } from '../../ui/index.js';
import type { CliDeps } from './deps.js';

/** `podwire ui`: the live web view of the lab (issue #16), until Ctrl-C. */
export function register(program: Command, deps: CliDeps): void {
  program
    .command('ui')
    .description(
      'serve the live web view of the lab: topology, flows along their real path, drops with their reason (http://127.0.0.1:8090)',
    )
    .option('--port <n>', 'TCP port', '8090')
    .option('--host <addr>', 'address to listen on (loopback unless told: the page can break the lab)', '127.0.0.1')
    .option('--open-instructor', 'print the instructor view’s URL too')
    .addHelpText('after', '\nExamples:\n  podwire ui\n  podwire ui --port 9000 --open-instructor')
    .action(async (o: { port: string; host: string; openInstructor?: boolean }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw deps.fail('--port must be a TCP port (0–65535)');
      const lab = deps.requireLab();
      const ui = await startUiServer({
        lab,
        server: deps.server(),
        port,
        host: o.host,
        log: (l) => deps.io.err(`ui: ${l}\n`),
      }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') throw deps.fail(`port ${port} is in use (try --port)`);
        throw err;
      });
      deps.say(`web view of lab ${lab.plan.prefix}: ${ui.url}`);
      if (o.openInstructor) deps.say(`instructor view: ${ui.url}/#instructor`);
      deps.io.err('serving (Ctrl-C to stop)\n');
      await new Promise<void>((resolve) => {
        const stop = () => void ui.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
