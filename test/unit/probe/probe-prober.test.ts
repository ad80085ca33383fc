import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { runProber } from '../../../src/probe/prober-main.js';

// The prober's three answers on loopback (nothing leaves the machine): a
// TCP server and a UDP echo answer (connected), closed ports refuse
// (RST / ICMP port unreachable), a UDP socket that never answers is silent
// (blocked, as a policy drop is).
let tcp: net.Server;
let echo: dgram.Socket;
let silent: dgram.Socket;
const port = (s: net.Server | dgram.Socket) => (s.address() as AddressInfo).port;
let received = 0;

beforeAll(async () => {
  tcp = net.createServer((c) => c.destroy());
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  echo = dgram.createSocket('udp4', (m, rinfo) => echo.send(`you said ${m}`, rinfo.port, rinfo.address));
  silent = dgram.createSocket('udp4', () => received++);
  await Promise.all([echo, silent].map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', r))));
});

afterAll(() => {
  tcp.close();
  echo.close();
  silent.close();
});

/** a port nothing listens on (bound, read, closed) */
async function closedPort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'tcp') {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const p = port(s);
    await new Promise((r) => s.close(r));
    return p;
  }
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const p = port(s);
  await new Promise<void>((r) => s.close(r));
  return p;
}

describe('the prober', () => {
  it('connected, refused and blocked, all targets at once', async () => {
    const [tcpClosed, udpClosed] = [await closedPort('tcp'), await closedPort('udp')];
    const t0 = Date.now();
    const out = await runProber({
      timeoutMs: 600,
      probes: [
        { id: 'tcp-open', host: '127.0.0.1', port: port(tcp), proto: 'tcp' },
        { id: 'tcp-closed', host: '127.0.0.1', port: tcpClosed, proto: 'tcp' },
        { id: 'udp-echo', host: '127.0.0.1', port: port(echo), proto: 'udp' },
        { id: 'udp-closed', host: '127.0.0.1', port: udpClosed, proto: 'udp' },
        { id: 'udp-silent', host: '127.0.0.1', port: port(silent), proto: 'udp' },
        { id: 'by-name', host: 'localhost', port: port(tcp), proto: 'tcp' },
      ],
    });
    const byId = Object.fromEntries(out.results.map((r) => [r.id, r]));
    expect(byId['tcp-open']).toMatchObject({
      observed: 'connected',
      detail: expect.stringMatching(/^connected \(\d+ ms\)$/),
    });
    expect(byId['tcp-closed']).toMatchObject({
      observed: 'refused',
      detail: expect.stringMatching(/^connection refused \(\d+ ms\)$/),
    });
    expect(byId['udp-echo']).toMatchObject({
      observed: 'connected',
      detail: expect.stringMatching(/^answered "you said hostname" \(\d+ ms\)$/),
    });
    expect(byId['udp-closed']).toMatchObject({ observed: 'refused' });
    expect(byId['udp-silent']).toMatchObject({ observed: 'blocked', detail: 'no answer in 600 ms' });
    expect(byId['by-name']).toMatchObject({
      observed: 'connected',
      detail: expect.stringMatching(/^connected \(\d+ ms\); localhost is 127\.0\.0\.1$/),
    });
    // concurrently: the whole run is one timeout, not the sum of them
    expect(Date.now() - t0).toBeLessThan(1500);
    // a UDP probe that gets no answer tries three times within its deadline
    expect(received).toBe(3);
  });
});
