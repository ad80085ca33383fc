import { describe, it, expect } from 'vitest';
import { nginxProxyConf, UPSTREAM_NAME } from '../../../src/bench/ingress-nginx-conf.js';
import {
  parseWrk,
  wrkArgv,
  wrkDurationMs,
  wrkErrors,
  WrkOutputError,
  type WrkResult,
} from '../../../src/bench/ingress-wrk.js';
import { ingressFigures, proxyFigures, type Run } from '../../../src/bench/ingress-figures.js';
import { ceilingUrl, engineObjects } from '../../../src/bench/ingress-ceiling.js';
import { upstreamRequestHeaders } from '../../../src/ingress/proxy/headers.js';
import { compileRoutes } from '../../../src/ingress/index.js';
import type { ClusterObjects } from '../../../src/ingress/types.js';
import { CERTS } from '../support/ingress-cluster.js';

// `bench ingress`'s pure parts: the nginx it compares with is configured as
// the same proxy podwire's controller is (same upstream, same headers, its
// files only under the bench's directory), wrk's text is read right (units,
// the lines it prints only on errors), and the RESULT figures take the best
// round and the CPU over all rounds.

const DIR = '/tmp/pwbing-x/nginx';
const conf = nginxProxyConf({
  dir: `${DIR}/`,
  upstream: '10.96.1.2:80',
  certFile: `${DIR}/tls.crt`,
  keyFile: `${DIR}/tls.key`,
});
const directive = (name: string) =>
  conf
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(`${name} `));

describe('bench ingress: the nginx config', () => {
  it('is one worker, in the foreground, with pid, logs and temp files only under its directory', () => {
    expect(directive('worker_processes')).toEqual(['worker_processes 1;']);
    expect(directive('daemon')).toEqual(['daemon off;']);
    const paths = [...conf.matchAll(/(?<=\s)(\/[^\s;']+)/g)].map((m) => m[1]);
    expect(paths.length).toBeGreaterThanOrEqual(9);
    for (const p of paths) expect(p.startsWith(`${DIR}/`), p).toBe(true);
    expect(directive('pid')).toEqual([`pid ${DIR}/nginx.pid;`]);
    for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
      expect(directive(`${t}_temp_path`)).toEqual([`${t}_temp_path ${DIR}/${t};`]);
    expect(conf).not.toMatch(/\/etc\/|\/var\/|\/run\//);
  });

  it('refuses a relative directory (nginx would read it against its compiled-in prefix)', () => {
    expect(() => nginxProxyConf({ dir: 'tmp/x', upstream: '10.96.1.2:80', certFile: '/c', keyFile: '/k' })).toThrow(
      /absolute/,
    );
  });

  it('serves HTTP and HTTPS on the ports asked, with the certificate given', () => {
    expect(directive('listen')).toEqual([
      'listen 80 default_server backlog=4096;',
      'listen 443 ssl default_server backlog=4096;',
    ]);
    const other = nginxProxyConf({
      dir: DIR,
      upstream: '10.96.1.2:80',
      certFile: '/c',
      keyFile: '/k',
      httpPort: 8080,
      httpsPort: 8443,
    });
    expect(other).toContain('listen 8080 default_server');
    expect(other).toContain('listen 8443 ssl default_server');
    expect(directive('ssl_certificate')).toEqual([`ssl_certificate ${DIR}/tls.crt;`]);
    expect(directive('ssl_certificate_key')).toEqual([`ssl_certificate_key ${DIR}/tls.key;`]);
  });

  it('proxies / to the Service ClusterIP over HTTP/1.1 keep-alive, unbuffered, as ingress-nginx does', () => {
    expect(conf).toMatch(new RegExp(`upstream ${UPSTREAM_NAME} \\{\\s+server 10\\.96\\.1\\.2:80;\\s+keepalive 320;`));
    expect(directive('proxy_pass')).toEqual([`proxy_pass http://${UPSTREAM_NAME};`]);
    expect(directive('proxy_http_version')).toEqual(['proxy_http_version 1.1;']);
    expect(directive('proxy_set_header')).toContain('proxy_set_header Connection "";');
    expect(directive('proxy_buffering')).toEqual(['proxy_buffering off;']);
    expect(
      nginxProxyConf({ dir: DIR, upstream: '10.96.0.7:8080', certFile: '/c', keyFile: '/k', upstreamKeepalive: 8 }),
    ).toMatch(/server 10\.96\.0\.7:8080;\s+keepalive 8;/);
  });

  it('sets upstream exactly the request headers podwire’s proxy sets', () => {
    const podwire = Object.keys(
      upstreamRequestHeaders({}, { clientIp: '172.28.0.100', proto: 'https', port: 443, hostHeader: 'x' }),
    ).sort();
    const nginx = directive('proxy_set_header')
      .map((l) => l.split(/\s+/)[1].toLowerCase())
      .filter((h) => h !== 'connection')
      .sort();
    expect(nginx).toEqual(podwire);
  });

  it('logs every request in ingress-nginx’s upstreaminfo format', () => {
    expect(directive('access_log')).toEqual([`access_log ${DIR}/access.log upstreaminfo;`]);
    expect(conf).toContain('log_format upstreaminfo \'$remote_addr - $remote_user [$time_local] "$request" $status');
  });
});

// wrk 4.1 (Debian's), as it printed against that nginx in a namespace of our own
const HTTP = `Running 2s test @ http://127.0.0.1/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   569.01us  456.62us   7.00ms   96.98%
    Req/Sec    15.32k     1.25k   16.56k    80.00%
  Latency Distribution
     50%  471.00us
     75%  535.00us
     90%  656.00us
     99%    3.18ms
  30492 requests in 2.00s, 4.16MB read
Requests/sec:  15220.32
Transfer/sec:      2.08MB
`;
const CLOSE = `Running 2s test @ https://localhost/nope
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.23ms    2.62ms  14.74ms   60.62%
    Req/Sec   754.35    103.10     0.89k    70.00%
  Latency Distribution
     50%    3.86ms
     75%    6.23ms
     90%    7.63ms
     99%   10.47ms
  1511 requests in 2.01s, 203.63KB read
Requests/sec:    750.68
Transfer/sec:    101.17KB
`;
// the two lines wrk adds only when there were errors (wrk.c's printf formats), and second-scale latencies
const ERRORS = HTTP.replace('    99%    3.18ms', '    99%    1.20s').replace(
  'Requests/sec:',
  '  Socket errors: connect 1, read 2, write 3, timeout 4\n  Non-2xx or 3xx responses: 12\nRequests/sec:',
);

describe('bench ingress: wrk', () => {
  it('reads rate, count, length and latency percentiles, in milliseconds', () => {
    const r = parseWrk(HTTP);
    expect(r).toEqual<WrkResult>({
      rps: 15220.32,
      requests: 30492,
      seconds: 2,
      avgMs: 0.56901,
      maxMs: 7,
      p50Ms: 0.471,
      p75Ms: 0.535,
      p90Ms: 0.656,
      p99Ms: 3.18,
      socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
      non2xx: 0,
    });
    expect(wrkErrors(r)).toBe(0);
    const c = parseWrk(CLOSE);
    expect([c.rps, c.requests, c.seconds, c.p50Ms, c.p99Ms]).toEqual([750.68, 1511, 2.01, 3.86, 10.47]);
  });

  it('counts socket errors and non-2xx/3xx answers when wrk prints them', () => {
    const r = parseWrk(ERRORS);
    expect(r.socketErrors).toEqual({ connect: 1, read: 2, write: 3, timeout: 4 });
    expect(r.non2xx).toBe(12);
    expect(wrkErrors(r)).toBe(22);
    expect(r.p99Ms).toBe(1200);
  });

  it('converts every unit wrk prints', () => {
    expect([
      wrkDurationMs('250.00us'),
      wrkDurationMs('1.50ms'),
      wrkDurationMs('2.00s'),
      wrkDurationMs('1.00m'),
      wrkDurationMs('1.00h'),
    ]).toEqual([0.25, 1.5, 2000, 60_000, 3_600_000]);
    expect(() => wrkDurationMs('3 ms')).toThrow(WrkOutputError);
  });

  it('fails with a typed error on output that is not a finished run (no --latency, or wrk gave up)', () => {
    expect(() => parseWrk('unable to connect to 127.0.0.1:8082 Connection refused')).toThrow(WrkOutputError);
    const noLatency = HTTP.replace(/ {2}Latency Distribution[\s\S]*?(?= {2}30492)/, '');
    expect(() => parseWrk(noLatency)).toThrow(/50% latency/);
    try {
      parseWrk('garbage');
    } catch (e) {
      expect((e as WrkOutputError).code).toBe('WRK_OUTPUT');
    }
  });

  it('asks for latency percentiles, and for a new connection per request with close', () => {
    expect(wrkArgv({ url: 'http://a/', connections: 32, seconds: 5 })).toEqual([
      'wrk',
      '-t',
      '1',
      '-c',
      '32',
      '-d',
      '5s',
      '--latency',
      '--timeout',
      '5s',
      'http://a/',
    ]);
    expect(wrkArgv({ url: 'https://a/', connections: 8, seconds: 2, threads: 2, close: true })).toEqual([
      'wrk',
      '-t',
      '2',
      '-c',
      '8',
      '-d',
      '2s',
      '--latency',
      '--timeout',
      '5s',
      '-H',
      'Connection: close',
      'https://a/',
    ]);
  });
});

describe('bench ingress: the RESULT figures', () => {
  const wrk = (rps: number, p50Ms: number, extra: Partial<WrkResult> = {}): WrkResult => ({
    rps,
    requests: rps * 5,
    seconds: 5,
    avgMs: p50Ms,
    maxMs: 10 * p50Ms,
    p50Ms,
    p75Ms: p50Ms,
    p90Ms: p50Ms,
    p99Ms: 3 * p50Ms,
    socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx: 0,
    ...extra,
  });
  const cpu = (proxyS: number, cores = proxyS / 5) => ({
    proxy: { cpuS: proxyS, cores },
    agents: { cpuS: 1, cores: 0.2 },
    cloudlb: { cpuS: 0, cores: 0 },
    backend: { cpuS: 0, cores: 0 },
  });
  const runs: Run[] = [
    { side: 'direct', kind: 'http', round: 1, wrk: wrk(9000, 2), cpu: cpu(0) },
    { side: 'podwire', kind: 'http', round: 1, wrk: wrk(1000, 30), cpu: cpu(2.5) },
    { side: 'nginx', kind: 'http', round: 1, wrk: wrk(3000, 10), cpu: cpu(1.5) },
    { side: 'direct', kind: 'http', round: 2, wrk: wrk(8000, 3), cpu: cpu(0) },
    { side: 'nginx', kind: 'http', round: 2, wrk: wrk(2000, 12), cpu: cpu(1) },
    { side: 'podwire', kind: 'http', round: 2, wrk: wrk(1500, 20, { non2xx: 3 }), cpu: cpu(3) },
    ...(['https', 'handshake'] as const).flatMap((kind): Run[] => [
      { side: 'podwire', kind, round: 1, wrk: wrk(kind === 'https' ? 1200 : 300, 25), cpu: cpu(3) },
      { side: 'nginx', kind, round: 1, wrk: wrk(kind === 'https' ? 2400 : 400, 9), cpu: cpu(2) },
    ]),
  ];
  const f = ingressFigures(runs);

  it('takes each condition’s best round and its latencies, and the ratios of those', () => {
    expect([
      f.direct_rps,
      f.direct_p50_ms,
      f.podwire_http_rps,
      f.podwire_http_p50_ms,
      f.podwire_http_p99_ms,
      f.nginx_http_rps,
      f.nginx_http_p50_ms,
    ]).toEqual([9000, 2, 1500, 20, 60, 3000, 10]);
    expect([f.http_rps_ratio, f.https_rps_ratio, f.handshake_ratio]).toEqual([0.5, 0.5, 0.75]);
    expect([f.podwire_handshakes_per_s, f.nginx_handshakes_per_s]).toEqual([300, 400]);
    expect([f.podwire_vs_direct, f.nginx_vs_direct]).toEqual([0.167, 0.333]);
    expect(f.podwire_http_rps_rounds).toEqual([1000, 1500]);
    expect(f.goal_met).toBe(true);
  });

  it('gives the proxy’s CPU per request over all rounds, its mean share of a core, and the errors', () => {
    // podwire http: 5.5 CPU s over 12,500 requests; nginx: 2.5 s over 25,000
    expect([f.podwire_http_cpu_us_per_req, f.nginx_http_cpu_us_per_req]).toEqual([440, 100]);
    expect([f.podwire_http_proxy_cores, f.nginx_http_proxy_cores]).toEqual([0.55, 0.25]);
    expect([f.podwire_errors, f.nginx_errors, f.direct_errors]).toEqual([3, 0, 0]);
  });

  it('says the goal is missed below half of nginx’s requests per second, and refuses runs with a condition missing', () => {
    const slower = runs.map((r) => (r.side === 'podwire' && r.kind === 'http' ? { ...r, wrk: wrk(1400, 20) } : r));
    expect(ingressFigures(slower).goal_met).toBe(false);
    expect(() => ingressFigures(runs.filter((r) => r.kind !== 'handshake'))).toThrow(/no podwire handshake run/);
  });
});

describe('bench ingress: the proxy-bound half', () => {
  const pair = CERTS.app; // a real EC certificate (the model's tests' fixture; it names app.example.com, so only routing is checked here)
  const compiled = compileRoutes(engineObjects(pair) as Partial<ClusterObjects>, {
    ingressController: 'k8s.io/ingress-nginx',
    gatewayController: 'io.cilium/gateway-controller',
    httpPort: 80,
    httpsPort: 443,
  });
  const req = (tls: boolean, host: string) => ({
    port: tls ? 443 : 80,
    tls,
    sni: tls ? host : undefined,
    host,
    method: 'GET',
    path: '/',
    query: '',
    headers: {},
    clientIp: '127.0.0.1',
  });

  it('compiles the lab’s Ingress with the loopback backend as the Service address, over HTTP and HTTPS, no redirect', () => {
    expect(compiled.table.listeners.map((l) => `${l.port}${l.tls ? '/tls' : ''}`).sort()).toEqual(['443/tls', '80']);
    for (const tls of [false, true]) {
      const d = compiled.table.route(req(tls, 'podwire.bench.test'));
      expect(d.kind).toBe('proxy');
      if (d.kind === 'proxy')
        expect(d.backends.map((b) => `${b.service} ${b.address}:${b.port}`)).toEqual([
          'ingbench/backend 127.0.0.1:8080',
        ]);
    }
    expect(compiled.table.route(req(false, 'other.test')).kind).toBe('error');
  });

  it('puts each proxy on its own ports, and prefixes its figures', () => {
    expect([
      ceilingUrl('podwire', 'http'),
      ceilingUrl('podwire', 'handshake'),
      ceilingUrl('nginx', 'http'),
      ceilingUrl('nginx', 'https'),
    ]).toEqual([
      'http://podwire.bench.test:80/',
      'https://podwire.bench.test:443/',
      'http://nginx.bench.test:8081/',
      'https://nginx.bench.test:8444/',
    ]);
    const wrk = (rps: number): WrkResult => ({
      rps,
      requests: 5 * rps,
      seconds: 5,
      avgMs: 1,
      maxMs: 1,
      p50Ms: 1,
      p75Ms: 1,
      p90Ms: 1,
      p99Ms: 2,
      socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
      non2xx: 0,
    });
    const cpu = { proxy: { cpuS: 1, cores: 0.2 }, backend: { cpuS: 0, cores: 0 } };
    const runs: Run[] = (['http', 'https', 'handshake'] as const).flatMap((kind): Run[] => [
      { side: 'podwire', kind, round: 1, wrk: wrk(1000), cpu },
      { side: 'nginx', kind, round: 1, wrk: wrk(5000), cpu },
    ]);
    const f = proxyFigures(runs, 'ceiling_');
    expect([
      f.ceiling_http_rps_ratio,
      f.ceiling_handshake_ratio,
      f.ceiling_goal_met,
      f.ceiling_podwire_http_cpu_us_per_req,
    ]).toEqual([0.2, 0.2, false, 200]);
    expect(Object.keys(f).every((k) => k.startsWith('ceiling_'))).toBe(true);
  });
});
