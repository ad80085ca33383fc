/**
 * The prober: what `podwire probe` runs inside one source pod (entered as
 * `podwire exec` enters it: the container's mount, UTS and network
 * namespaces, so names resolve with the pod's own /etc/resolv.conf). It
 * reads a ProberInput on stdin, probes every target at once, and writes one
 * ProberOutput line of JSON on stdout.
 *
 * Standalone on purpose: it imports nothing of podwire's, so a pod's
 * process starts in tens of milliseconds instead of loading the whole CLI.
 *
 *   TCP: connect(); established = connected, RST = refused (the packet
 *        reached a pod with no server there), nothing before the deadline
 *        = blocked (a policy drop is silent).
 *   UDP: a connected socket sends "hostname" (podwire's generic listener
 *        and agnhost's serve-hostname and netexec all answer it) three times
 *        within the deadline; an answer = connected, ICMP port unreachable
 *        (ECONNREFUSED) = refused, silence = blocked.
 */
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import type { ProberInput, ProberOutput, ProberProbe, ProbeResult } from './wire.js';

const UDP_TRIES = 3;

/** ICMP errors other than port unreachable: the network said no, which is not a silent drop. */
const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EACCES', 'EPERM']);

function classify(code: string | undefined, ms: number): ProbeResult {
  if (code === 'ECONNREFUSED') return { observed: 'refused', detail: `connection refused (${ms} ms)`, ms };
  if (code && UNREACHABLE.has(code)) return { observed: 'unreachable', detail: `${code} (${ms} ms)`, ms };
  return { observed: 'error', detail: code ?? 'unknown error', ms };
}

function probeTcp(ip: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const sock = net.connect({ host: ip, port });
    let done = false;
    // The deadline is decided after the poll phase (setImmediate): a process
    // starved past it runs expired timers before the I/O that already
    // arrived, and would call an answered connection blocked.
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (done) return;
          done = true;
          sock.destroy();
          resolve({ observed: 'blocked', detail: `no answer in ${timeoutMs} ms`, ms: Date.now() - t0 });
        }),
      timeoutMs,
    );
    sock.once('connect', () => {
      clearTimeout(timer);
      if (done) return;
      done = true;
      const ms = Date.now() - t0;
      sock.destroy();
      resolve({ observed: 'connected', detail: `connected (${ms} ms)`, ms });
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (done) return;
      done = true;
      resolve(classify(e.code, Date.now() - t0));
    });
  });
}

function probeUdp(ip: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const timers: NodeJS.Timeout[] = [];
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      try {
        sock.close();
      } catch {
        /* already closed */
      }
      resolve(r);
    };
    sock.on('error', (e: NodeJS.ErrnoException) => finish(classify(e.code, Date.now() - t0)));
    sock.on('message', (m) => {
      const ms = Date.now() - t0;
      finish({ observed: 'connected', detail: `answered "${String(m).trim().slice(0, 60)}" (${ms} ms)`, ms });
    });
    sock.connect(port, ip, () => {
      // a datagram may be lost where a TCP SYN would be retransmitted: send it again within the deadline
      for (let i = 0; i < UDP_TRIES; i++) {
        timers.push(
          setTimeout(
            () =>
              !done &&
              sock.send('hostname', (e) => e && finish(classify((e as NodeJS.ErrnoException).code, Date.now() - t0))),
            (i * timeoutMs) / UDP_TRIES,
          ),
        );
      }
    });
    // decided after the poll phase, as in probeTcp: answers that already arrived win
    timers.push(
      setTimeout(
        () =>
          setImmediate(() =>
            finish({ observed: 'blocked', detail: `no answer in ${timeoutMs} ms`, ms: Date.now() - t0 }),
          ),
        timeoutMs,
      ),
    );
  });
}

/** A host that is a name: resolved once per name by the C library (the pod's resolv.conf, search list, /etc/hosts). */
function resolver(): (host: string) => Promise<string> {
  const cache = new Map<string, Promise<string>>();
  return (host) => {
    if (net.isIPv4(host)) return Promise.resolve(host);
    let p = cache.get(host);
    if (!p) cache.set(host, (p = dns.lookup(host, { family: 4 }).then((a) => a.address)));
    return p;
  };
}

async function probeOne(
  p: ProberProbe,
  timeoutMs: number,
  resolve: (h: string) => Promise<string>,
): Promise<ProbeResult> {
  let ip: string;
  try {
    ip = await resolve(p.host);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    return { observed: 'dns-failed', detail: `${p.host.replace(/\.$/, '')} did not resolve: ${code}` };
  }
  const r = p.proto === 'udp' ? await probeUdp(ip, p.port, timeoutMs) : await probeTcp(ip, p.port, timeoutMs);
  return ip === p.host ? r : { ...r, detail: `${r.detail}; ${p.host.replace(/\.$/, '')} is ${ip}` };
}

export async function runProber(input: ProberInput): Promise<ProberOutput> {
  const resolve = resolver();
  const results = await Promise.all(
    input.probes.map(async (p) => ({ id: p.id, ...(await probeOne(p, input.timeoutMs, resolve)) })),
  );
  return { results };
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

// run as a program (node prober-main.js), not when imported by a test
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  readStdin()
    .then((text) => runProber(JSON.parse(text) as ProberInput))
    .then((out) => process.stdout.write(`${JSON.stringify(out)}\n`))
    .catch((e: Error) => {
      process.stderr.write(`prober: ${e.message}\n`);
      process.exitCode = 1;
    });
}
