import http from 'node:http';

/**
 * The L7 event relay: `podwire observe` runs it inside an ingress
 * controller pod's network namespace (`ip netns exec`, as trace runs its
 * probe there) and it copies the controller's event stream,
 * GET 127.0.0.1:<healthz port>/podwire/events, to stdout.
 *
 * Why from inside the pod, over its loopback, rather than from the node to
 * the pod's IP as a scraper would: the stream then never crosses the
 * dataplane, so observing does not add flows of its own to what it
 * observes, and a NetworkPolicy isolating the controller pod does not cut
 * observe off. Why the event stream rather than the access log read through
 * the API server's log endpoint: the events are structured (host, TLS,
 * route, backend, upstream, status, latency as numbers), where the access
 * line is ingress-nginx's human format, which has no Host and an upstream
 * name ("ns-svc-port") that cannot be split back safely.
 *
 * First line out: {"type":"subscribed"} once the controller answered, so
 * the caller knows it will see every request from then on. Ends when the
 * stream ends (exit 0), on an error (exit 1, the reason on stderr), or
 * when stdin closes (the caller went away).
 */
export interface RelayOptions {
  port: number;
  host?: string;
  out?: NodeJS.WritableStream;
  /** how long to wait for the controller to answer */
  connectTimeoutMs?: number;
}

export function relayL7Events(o: RelayOptions): Promise<number> {
  const out = o.out ?? process.stdout;
  return new Promise((resolve) => {
    let done = false;
    const finish = (code: number, why?: string) => {
      if (done) return;
      done = true;
      if (why) process.stderr.write(`${why}\n`);
      req.destroy();
      resolve(code);
    };
    const req = http.get(
      { host: o.host ?? '127.0.0.1', port: o.port, path: '/podwire/events', timeout: o.connectTimeoutMs ?? 3000 },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return finish(1, `the controller answered ${res.statusCode} on :${o.port}/podwire/events`);
        }
        req.setTimeout(0); // the stream may be quiet for as long as nobody sends a request
        out.write('{"type":"subscribed"}\n');
        res.on('data', (d: Buffer) => out.write(d));
        res.on('end', () => finish(0));
        res.on('error', (e) => finish(1, e.message));
      },
    );
    req.on('timeout', () => finish(1, `no answer from :${o.port}/podwire/events in ${o.connectTimeoutMs ?? 3000} ms`));
    req.on('error', (e) => finish(1, `:${o.port}/podwire/events: ${e.message}`));
    out.on('error', () => finish(0)); // the reader is gone (EPIPE)
    process.stdin.on('end', () => finish(0));
    process.stdin.on('error', () => finish(0));
    process.stdin.resume();
  });
}
