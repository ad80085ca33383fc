import fs from 'node:fs';
import path from 'node:path';
import { nginxProxyConf } from './ingress-nginx-conf.js';
import { childrenOf } from './ingress-procs.js';
import { BenchError } from './errors.js';
import { execProcess, startProcess } from '../host/index.js';

/**
 * Debian's nginx for `bench ingress`, run only inside a pod's network
 * namespace of the bench's lab, pinned to one CPU (`taskset -c`, which the
 * master's worker inherits), with its own config, pid, logs and temp files
 * under `dir`. taskset and nsenter exec, so the spawned PID is nginx's
 * master; stop() ends exactly that process (and it its worker).
 */
export interface NginxRun {
  pid: number;
  /** the master and its worker(s) */
  pids(): number[];
  stop(): Promise<void>;
}

export interface NginxRunOptions {
  /** the pod's network namespace */
  ns: string;
  /** an absolute directory of the bench's own */
  dir: string;
  upstream: string;
  cert: string;
  key: string;
  cpu: string;
  httpPort?: number;
  httpsPort?: number;
}

export async function startNginx(o: NginxRunOptions): Promise<NginxRun> {
  fs.mkdirSync(o.dir, { recursive: true });
  const certFile = path.join(o.dir, 'tls.crt');
  const keyFile = path.join(o.dir, 'tls.key');
  fs.writeFileSync(certFile, o.cert);
  fs.writeFileSync(keyFile, o.key, { mode: 0o600 });
  const conf = path.join(o.dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    nginxProxyConf({
      dir: o.dir,
      upstream: o.upstream,
      certFile,
      keyFile,
      httpPort: o.httpPort,
      httpsPort: o.httpsPort,
    }),
  );
  const errorLog = path.join(o.dir, 'error.log');
  const inPod = ['nsenter', `--net=/run/netns/${o.ns}`, '--', 'nginx', '-c', conf, '-p', `${o.dir}/`, '-e', errorLog];
  // the config checked first, so a mistake is an error message rather than a process that exits
  const t = await execProcess([inPod[0], ...inPod.slice(1), '-t'], { reject: false });
  if (t.exitCode !== 0) throw new BenchError('ERR_TOOL_FAILED', `nginx -t refused ${conf}: ${String(t.stderr).trim()}`);

  const out = fs.openSync(path.join(o.dir, 'nginx.out'), 'a');
  const child = startProcess(['taskset', '-c', o.cpu, ...inPod], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  let exited = false;
  const gone = new Promise<void>((res) => child.once('exit', () => ((exited = true), res())));
  child.on('error', () => {});
  const pid = child.pid!;
  const deadline = Date.now() + 10_000;
  // up once the master has written its pid file and forked its worker
  while (!(fs.existsSync(path.join(o.dir, 'nginx.pid')) && childrenOf(pid).length > 0)) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      const why = fs.existsSync(errorLog)
        ? fs.readFileSync(errorLog, 'utf8').trim().split('\n').slice(-3).join(' | ')
        : '(no error log)';
      throw new BenchError('ERR_TOOL_FAILED', `nginx did not start in ${o.ns}: ${why}`);
    }
    await new Promise((res) => setTimeout(res, 50));
  }
  return {
    pid,
    pids: () => [pid, ...childrenOf(pid)],
    stop: async () => {
      if (exited) return;
      child.kill('SIGTERM'); // nginx's fast shutdown: the master stops its worker, then exits
      const t2 = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t2);
    },
  };
}
