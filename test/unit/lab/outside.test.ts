// The lab's outside, as data: machines, addresses, the commands that build
// them, `lab exec`'s argv, the www server's answers and `lab status` lines.

import { describe, expect, it, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import {
  planLab,
  outsideCommands,
  topologyCommands,
  labMachines,
  checkOutsideFits,
  LAB_DEFAULTS,
} from '../../../src/lab/index.js';
import { wwwArgv, cloudLbArgv } from '../../../src/lab/outside.js';
import { labExecArgv, outsideStatusLines } from '../../../src/lab/outside-commands.js';
import { wwwResponse, runWww, plainIp } from '../../../src/lab/www.js';
import { selfSignedCertArgv, ensureSelfSignedCert, certFilesIn } from '../../../src/lab/www-cert.js';
import { IFNAMSIZ_MAX } from '../../../src/host/index.js';
import type { CloudLbStatus } from '../../../src/cloudlb/index.js';

const plan = planLab({ prefix: 'pwlab', nodes: 3 });

describe('the outside in the plan', () => {
  it('client 172.28.0.100, www 172.28.0.200, the cloud load balancer 172.28.0.3 with the pool .240–.254', () => {
    const { client, www, cloudLb } = plan.outside;
    expect([client.name, client.ns, client.ip]).toEqual(['client', 'pwlab-client', '172.28.0.100']);
    expect([www.name, www.ns, www.ip, www.httpPort, www.httpsPort, www.echoPort]).toEqual([
      'www',
      'pwlab-www',
      '172.28.0.200',
      80,
      443,
      7,
    ]);
    expect([cloudLb.name, cloudLb.ns, cloudLb.ip, cloudLb.pool]).toEqual([
      'cloudlb',
      'pwlab-clb',
      '172.28.0.3',
      '172.28.0.240-172.28.0.254',
    ]);
    expect(www.stateDir).toBe('/run/podwire/pwlab/www');
    expect(cloudLb.socket).toBe('/run/podwire/pwlab/cloudlb/cloudlb.sock');
    expect(LAB_DEFAULTS.lbPool).toBe(cloudLb.pool);
  });

  it('no address is taken twice up to 89 nodes; a bigger lab with the outside is refused with what to do', () => {
    const fits = planLab({ prefix: 'pwlab', nodes: 89 });
    const outside = [fits.outside.client.ip, fits.outside.www.ip, fits.outside.cloudLb.ip, fits.controlPlane.ip];
    expect(new Set([...outside, ...fits.nodes.map((n) => n.ip)]).size).toBe(89 + 4);
    expect(() => checkOutsideFits(fits)).not.toThrow();
    // node 90 would be 172.28.0.100, the client
    expect(() => checkOutsideFits(planLab({ prefix: 'pwlab', nodes: 90 }))).toThrow(
      "node90 would have 172.28.0.100, the client's address: with the outside, a lab has at most 89 nodes (or leave the outside out: --no-outside)",
    );
    // the pool is above every node a plan can have (node 200 is .210)
    expect(planLab({ prefix: 'pwlab', nodes: 200 }).nodes.every((n) => Number(n.ip.split('.')[3]) < 240)).toBe(true);
  });

  it('builds client and www always, the load balancer only with a control plane; names fit and carry the prefix', () => {
    const without = outsideCommands(plan, { cloudLb: false });
    const withLb = outsideCommands(plan, { cloudLb: true });
    expect(without).toHaveLength(9 * 2);
    expect(withLb).toHaveLength(9 * 3);
    expect(withLb[0]).toEqual(['ip', 'netns', 'add', 'pwlab-client']);
    expect(withLb[6]).toEqual(['ip', '-n', 'pwlab-client', 'addr', 'replace', '172.28.0.100/24', 'dev', 'eth0']);
    expect(withLb[9 + 6]).toEqual(['ip', '-n', 'pwlab-www', 'addr', 'replace', '172.28.0.200/24', 'dev', 'eth0']);
    expect(withLb[18 + 6]).toEqual(['ip', '-n', 'pwlab-clb', 'addr', 'replace', '172.28.0.3/24', 'dev', 'eth0']);
    for (const m of [plan.outside.client, plan.outside.www, plan.outside.cloudLb]) {
      expect(m.ns.startsWith('pwlab-')).toBe(true);
      expect(m.underlayPort.length).toBeLessThanOrEqual(IFNAMSIZ_MAX);
    }
    const ports = [
      ...plan.nodes.map((n) => n.underlayPort),
      plan.controlPlane.underlayPort,
      plan.outside.client.underlayPort,
      plan.outside.www.underlayPort,
      plan.outside.cloudLb.underlayPort,
    ];
    expect(new Set(ports).size).toBe(ports.length);
    // and the topology itself is unchanged by it
    expect(topologyCommands(plan)).toHaveLength(5 + 9 * 3);
  });

  it('lab exec knows every machine by its short name', () => {
    expect(labMachines(plan, { controlPlane: true, outside: true }).map((m) => [m.name, m.ns, m.ip])).toEqual([
      ['node1', 'pwlab-node1', '172.28.0.11'],
      ['node2', 'pwlab-node2', '172.28.0.12'],
      ['node3', 'pwlab-node3', '172.28.0.13'],
      ['cp', 'pwlab-cp', '172.28.0.2'],
      ['client', 'pwlab-client', '172.28.0.100'],
      ['www', 'pwlab-www', '172.28.0.200'],
      ['cloudlb', 'pwlab-clb', '172.28.0.3'],
      ['underlay', 'pwlab-underlay', null],
    ]);
    expect(labMachines(plan, { controlPlane: false, outside: true }).map((m) => m.name)).toEqual([
      'node1',
      'node2',
      'node3',
      'client',
      'www',
      'underlay',
    ]);
    expect(labMachines(plan, { controlPlane: true, outside: false }).map((m) => m.name)).toEqual([
      'node1',
      'node2',
      'node3',
      'cp',
      'underlay',
    ]);
  });

  it('lab exec: nsenter into the network namespace, hostname the machine’s, the command untouched', () => {
    expect(labExecArgv('pwlab-client', 'client', ['curl', '-sk', 'https://172.28.0.200/'])).toEqual([
      'nsenter',
      '--net=/run/netns/pwlab-client',
      '--',
      'unshare',
      '--uts',
      '--',
      'sh',
      '-c',
      'hostname "$0" 2>/dev/null; exec "$@"',
      'client',
      'curl',
      '-sk',
      'https://172.28.0.200/',
    ]);
    // with /etc/netns/<ns> (the client's resolv.conf): those files over /etc's in a private mount namespace, as ip netns exec
    const withEtc = labExecArgv('pwlab-client', 'client', ['dig', 'api.example.com'], '/etc/netns/pwlab-client');
    expect(withEtc.slice(0, 9)).toEqual([
      'nsenter',
      '--net=/run/netns/pwlab-client',
      '--',
      'unshare',
      '--uts',
      '--mount',
      '--propagation',
      'private',
      '--',
    ]);
    expect(withEtc.slice(-4)).toEqual(['client', '/etc/netns/pwlab-client', 'dig', 'api.example.com']);
    expect(withEtc[11]).toContain('mount --bind "$f" "/etc/${f##*/}"');
  });

  it('starts www and the load balancer with argv that name the lab (so lab down can tell they are its own)', () => {
    expect(wwwArgv(plan)).toEqual([
      'www',
      '--name',
      'www',
      '--http',
      '80',
      '--https',
      '443',
      '--echo',
      '7',
      '--dns',
      '53',
      '--dns-address',
      '172.28.0.200',
      '--tls-dir',
      '/run/podwire/pwlab/www',
      '--prefix',
      'pwlab',
    ]);
    expect(cloudLbArgv(plan)).toEqual([
      'cloudlb',
      '--apiserver',
      'unix:/run/podwire/pwlab/apiserver.sock',
      '--pool',
      '172.28.0.240-172.28.0.254',
      '--socket',
      '/run/podwire/pwlab/cloudlb/cloudlb.sock',
      '--prefix',
      'pwlab',
    ]);
  });
});

describe('lab status lines for the outside', () => {
  const st: CloudLbStatus = {
    ip: '172.28.0.3',
    mac: '02:00:00:00:00:03',
    interface: 'eth0',
    pool: '172.28.0.240-172.28.0.254',
    startedAt: '',
    apiserver: '',
    services: [
      {
        service: 'default/web',
        externalIp: '172.28.0.240',
        problem: null,
        ports: ['80/TCP'],
        check: 'kube-proxy',
        failOpen: false,
        nodes: [
          {
            name: 'node1',
            ip: '172.28.0.11',
            url: 'http://172.28.0.11:10256/healthz',
            health: 'healthy',
            last: 'HTTP 200',
            since: '',
            frames: 3,
          },
          {
            name: 'node2',
            ip: '172.28.0.12',
            url: 'http://172.28.0.12:10256/healthz',
            health: 'unhealthy',
            last: 'connection refused',
            since: '',
            frames: 0,
          },
        ],
      },
      {
        service: 'shop/local',
        externalIp: null,
        problem: 'LoadBalancerIPInUse: spec.loadBalancerIP 172.28.0.240 is in use by Service default/web',
        ports: ['443/TCP'],
        check: null,
        failOpen: false,
        nodes: [],
      },
    ],
    nodes: [],
    flows: 2,
    counters: { arpReplies: 1, forwarded: 3, forwardedBytes: 222, drops: {} },
    informers: { services: null, nodes: null },
  };

  it('names the machines, the processes, and each Service’s address and node health', () => {
    expect(
      outsideStatusLines(plan, {
        www: { pid: 10, running: true },
        cloudLb: { pid: 11, running: true, status: st },
      }).join('\n'),
    ).toBe(
      [
        'outside: client pwlab-client 172.28.0.100 (podwire lab exec client -- …)',
        '         www pwlab-www 172.28.0.200: http :80, https :443, udp echo :7, running (pid 10)',
        'cloud load balancer: pwlab-clb 172.28.0.3, EXTERNAL-IPs 172.28.0.240-172.28.0.254, running (pid 11), 3 frames forwarded, 2 flows',
        'SERVICE       EXTERNAL-IP    PORTS     HEALTH CHECK                   NODES',
        'default/web   172.28.0.240   80/TCP    :10256/healthz (ETP Cluster)   node1=healthy node2=UNHEALTHY',
        'shop/local    <pending>      443/TCP   -                              LoadBalancerIPInUse: spec.loadBalancerIP 172.28.0.240 is in use by Service default/web',
      ].join('\n'),
    );
  });

  it('says when there is no outside, or no load balancer', () => {
    expect(outsideStatusLines(plan, null)).toEqual(['outside: none (--no-outside)']);
    expect(outsideStatusLines(plan, { www: { pid: 10, running: false }, cloudLb: null }).slice(1)).toEqual([
      '         www pwlab-www 172.28.0.200: http :80, https :443, udp echo :7, down',
      'cloud load balancer: none (it needs the control plane)',
    ]);
  });
});

describe('www', () => {
  const req = {
    name: 'www',
    scheme: 'http' as const,
    method: 'GET',
    headers: { host: '172.28.0.200' },
    server: { ip: '172.28.0.200', port: 80 },
    client: { ip: '172.28.0.11', port: 40123 },
  };

  it('answers a page naming itself and the caller’s source address', () => {
    expect(wwwResponse({ ...req, url: '/' }).body).toBe(
      'www: a server outside the cluster\nserver: 172.28.0.200:80 (http)\nclient: 172.28.0.11:40123\nrequest: GET / (Host: 172.28.0.200)\n',
    );
    expect(wwwResponse({ ...req, url: '/ip' }).body).toBe('172.28.0.11\n');
    expect(JSON.parse(wwwResponse({ ...req, url: '/json?x=1' }).body)).toMatchObject({
      server: { name: 'www', ip: '172.28.0.200', port: 80, scheme: 'http' },
      client: { ip: '172.28.0.11', port: 40123 },
    });
    expect(plainIp('::ffff:10.0.0.1')).toBe('10.0.0.1');
  });

  it('the certificate: openssl argv with the server’s names in subjectAltName', () => {
    const argv = selfSignedCertArgv(certFilesIn('/d'), { commonName: 'www', ips: ['172.28.0.200'], dnsNames: ['www'] });
    expect(argv.slice(0, 3)).toEqual(['openssl', 'req', '-x509']);
    expect(argv).toContain('subjectAltName=DNS:www,IP:172.28.0.200');
    expect(argv.slice(argv.indexOf('-keyout'), argv.indexOf('-keyout') + 4)).toEqual([
      '-keyout',
      '/d/www.key',
      '-out',
      '/d/www.crt',
    ]);
  });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwt-www-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('serves HTTP, HTTPS with a certificate openssl made, and UDP echo (on loopback, free ports)', async () => {
    const cert = await ensureSelfSignedCert(dir, { commonName: 'www', ips: ['127.0.0.1'], dnsNames: ['www'] });
    expect(cert.created).toBe(true);
    expect(
      (await ensureSelfSignedCert(dir, { commonName: 'www', ips: ['127.0.0.1'], dnsNames: ['www'] })).created,
    ).toBe(false);
    expect(
      execFileSync('openssl', ['x509', '-in', cert.certFile, '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' }),
    ).toContain('IP Address:127.0.0.1');
    const logs: string[] = [];
    const s = await runWww({
      name: 'www',
      host: '127.0.0.1',
      httpPort: 0,
      httpsPort: 0,
      echoPort: 0,
      tls: cert,
      log: (m) => logs.push(m),
    });
    try {
      const get = (mod: typeof http | typeof https, port: number, p: string) =>
        new Promise<string>((resolve, reject) => {
          mod
            .get({ host: '127.0.0.1', port, path: p, ca: fs.readFileSync(cert.certFile), servername: 'www' }, (res) => {
              let t = '';
              res.on('data', (c) => (t += c));
              res.on('end', () => resolve(t));
            })
            .on('error', reject);
        });
      expect(await get(http, s.ports.http!, '/')).toMatch(
        /^www: a server outside the cluster\nserver: 127\.0\.0\.1:\d+ \(http\)\nclient: 127\.0\.0\.1:\d+\n/,
      );
      // verified against the certificate (no -k): its subjectAltName is right
      expect(await get(https, s.ports.https!, '/ip')).toBe('127.0.0.1\n');
      const u = dgram.createSocket('udp4');
      const echoed = await new Promise<string>((resolve) => {
        u.on('message', (m) => resolve(m.toString()));
        u.send('ping', s.ports.echo!, '127.0.0.1');
      });
      u.close();
      expect(echoed).toBe('ping');
      expect(logs[0]).toMatch(/^www serving http :\d+, https :\d+, udp echo :\d+ on 127\.0\.0\.1$/);
      expect(logs.some((l) => /^http GET \/ from 127\.0\.0\.1:\d+ → 200$/.test(l))).toBe(true);
    } finally {
      await s.stop();
    }
  });
});
