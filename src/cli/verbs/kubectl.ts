import fs from 'node:fs';
import type { Command } from 'commander';
import { inNetns, startProcess, toolPath } from '../../host/index.js';
import { adminKubeconfigPath, writeAdminKubeconfig, labApiServerUrl, type LabState } from '../../lab/index.js';
import type { CliDeps } from './deps.js';

/**
 * `podwire kubectl ARGS…`: the real kubectl, pointed at this lab's API
 * server. The netns lab's API server listens on the control plane's
 * underlay address, reachable only from inside the lab's namespaces (the
 * machine's own network namespace is never changed), so kubectl runs in the
 * control plane's namespace — as it would on kind's control-plane node —
 * with the lab's admin kubeconfig (https with the lab CA, the
 * kubernetes-admin client certificate, group system:masters; written by
 * `lab up`; the machine's ~/.kube/config, which may name other clusters, is
 * never read). stdin, stdout, stderr and the terminal are kubectl's, so `-it`
 * is interactive; the exit code is kubectl's. `alias kubectl='podwire
 * kubectl'` lets the articles' commands be typed as printed.
 */
export function labKubeconfig(state: LabState): { file: string; ns: string; server: string } {
  const file = adminKubeconfigPath(state.plan);
  // a lab whose kubeconfig went missing (or older than it): written again from its PKI
  if (!fs.existsSync(file)) writeAdminKubeconfig(state.plan);
  return { file, ns: state.plan.controlPlane.ns, server: labApiServerUrl(state.plan) };
}

export function register(program: Command, deps: CliDeps): void {
  program
    .command('kubectl')
    .description(
      'the real kubectl against this lab’s API server (run in the control plane’s namespace, with the lab’s own kubeconfig); alias kubectl=’podwire kubectl’ to type the articles’ commands as printed',
    )
    .argument('[args...]', 'kubectl’s arguments, as you would give them to kubectl')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async () => {
      // kubectl's own argv, verbatim: commander would drop the `--` that
      // `kubectl exec POD -- CMD` needs, so take what follows the verb.
      const raw: string[] = (program as unknown as { rawArgs: string[] }).rawArgs ?? process.argv;
      const args = raw.slice(raw.indexOf('kubectl') + 1);
      const state = deps.requireLab();
      const { file, ns } = labKubeconfig(state);
      const env = { ...process.env, KUBECONFIG: file };
      const code = await new Promise<number>((resolve) => {
        // (by its path: a kubectl on PATH may be an alias or wrapper of this very command)
        const child = startProcess(inNetns(ns, [toolPath('kubectl'), ...args]), { stdio: 'inherit', env });
        child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
        child.on('error', (e) => {
          deps.io.err(`error: could not run kubectl (${e.message}); install it (Debian: kubernetes-client)\n`);
          resolve(127);
        });
      });
      process.exitCode = code;
    });
}
