import { describe, it, expect, afterEach } from 'vitest';
import net from 'node:net';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { SpdySession, type SpdyStream, RstStatus } from '../../../src/control/streams/spdy/index.js';
import { servePortForward } from '../../../src/kubelet/streams/portforward.js';
import {
  netnsDialer,
  DialError,
  DIALER_HELPER_SOURCE,
  type NetnsDialer,
} from '../../../src/kubelet/streams/portforward-dial.js';

// A SPDY session end to end over a real TCP connection on loopback, the
// port-forward server's pairing and errors over it, and the dialer's socket
// hand-over (SCM_RIGHTS over Node's IPC) with the helper run without nsenter
// (the netns half is in test/integration/kubectl-port-forward.test.ts).

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function sessionPair(): Promise<{ client: SpdySession; server: SpdySession }> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  const accepted = once(srv, 'connection');
  const c = net.connect(port, '127.0.0.1');
  const [s] = (await accepted) as [net.Socket];
  await once(c, 'connect').catch(() => {});
  srv.close();
  const client = new SpdySession(c, { isServer: false });
  const server = new SpdySession(s, { isServer: true });
  cleanups.push(() => {
    client.destroy();
    server.destroy();
  });
  return { client, server };
}

/** Everything a stream's readable side gives until its end (without for-await, which destroys a duplex). */
function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (c: Buffer) => parts.push(c));
    s.once('end', () => resolve(Buffer.concat(parts)));
    s.once('error', reject);
  });
}

const until = async (cond: () => boolean, ms = 3000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

async function echoServer(): Promise<number> {
  const srv = net.createServer((s) => s.pipe(s));
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  cleanups.push(() => srv.close());
  return (srv.address() as net.AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('SpdySession', () => {
  it('opens a stream, replies, carries data both ways and half-closes each way', async () => {
    const { client, server } = await sessionPair();
    const got = once(server, 'stream') as Promise<[SpdyStream]>;
    const cs = client.openStream({ streamtype: 'data', port: '80' });
    const [ss] = await got;
    expect(ss.id).toBe(1);
    expect(ss.header('streamtype')).toBe('data');
    ss.reply();
    expect({ ...(await cs.replied) }).toEqual({});
    cs.end('ping from the client');
    expect((await readAll(ss)).toString()).toBe('ping from the client');
    ss.end('pong from the server');
    expect((await readAll(cs)).toString()).toBe('pong from the server');
    await until(() => client.streamCount === 0 && server.streamCount === 0);
    expect(client.counts.sent.get('syn_stream')).toBe(1);
    expect(server.counts.sent.get('syn_reply')).toBe(1);
  });

  it('carries 3 MB against a slow reader with its checksum (the transport pauses, window is granted back)', async () => {
    const { client, server } = await sessionPair();
    const payload = crypto.randomBytes(3_000_000);
    server.on('stream', (s) => {
      s.reply();
      s.end(payload);
    });
    const cs = client.openStream({ streamtype: 'data', port: '1' });
    cs.end();
    const parts: Buffer[] = [];
    cs.on('data', (c: Buffer) => {
      parts.push(c);
      if (parts.length % 20 === 0) {
        cs.pause(); // a slow reader
        setTimeout(() => cs.resume(), 2);
      }
    });
    await once(cs, 'end');
    const sum = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
    expect(sum(Buffer.concat(parts))).toBe(sum(payload));
    expect(client.counts.sent.get('window_update') ?? 0).toBeGreaterThan(40); // per 32 KiB, session and stream
  });

  it('answers the peer’s PINGs and times its own', async () => {
    const { client, server } = await sessionPair();
    const rtt = await client.ping();
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(await server.ping()).toBeGreaterThanOrEqual(0);
    expect(server.counts.sent.get('ping')).toBe(2); // the answer to the client's, and its own
  });

  it('a RST_STREAM from the peer destroys the stream; unknown and refused stream ids are told apart', async () => {
    const { client, server } = await sessionPair();
    const got = once(server, 'stream') as Promise<[SpdyStream]>;
    const cs = client.openStream({ a: 'b' });
    const [ss] = await got;
    ss.reply();
    await cs.replied;
    const reset = once(ss, 'reset');
    cs.reset(RstStatus.CANCEL);
    expect(await reset).toEqual([RstStatus.CANCEL]);
    await until(() => ss.destroyed && server.streamCount === 0);
    // a refused stream: the opener's replied promise rejects
    server.once('stream', (s) => s.reset(RstStatus.REFUSED_STREAM));
    await expect(client.openStream({ x: 'y' }).replied).rejects.toThrow(/reset by the peer \(status 3\)/);
  });

  it('GOAWAY: no new streams, and the transport ends when the last one finishes', async () => {
    const { client, server } = await sessionPair();
    const got = once(server, 'stream') as Promise<[SpdyStream]>;
    const cs = client.openStream({ a: 'b' });
    const [ss] = await got;
    ss.reply();
    client.goAway();
    expect(() => client.openStream({})).toThrow(/closed/);
    cs.end();
    ss.end();
    await readAll(ss);
    await readAll(cs);
    await until(() => server.isClosed && client.isClosed);
  });

  it('a protocol error (a SPDY/2 frame) ends the session with GOAWAY and an error', async () => {
    const { client, server } = await sessionPair();
    const err = once(server, 'error');
    (client as unknown as { transport: net.Socket }).transport.write(Buffer.from('800200060000000400000001', 'hex'));
    const [e] = (await err) as [Error & { code: string }];
    expect(e.code).toBe('ERR_SPDY_VERSION');
    await until(() => server.isClosed && client.isClosed);
  });
});

/** The dialer with its helper in this process's namespace: the socket hand-over is real. */
function localDialer(): NetnsDialer {
  const d = netnsDialer('test-ns', {
    startHelper: () =>
      spawn(process.execPath, ['-e', DIALER_HELPER_SOURCE], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }),
  });
  cleanups.push(() => d.close());
  return d;
}

describe('netnsDialer', () => {
  it('hands over a socket connected by the helper; bytes flow through it in this process', async () => {
    const port = await echoServer();
    const d = localDialer();
    const s = await d.dial(port);
    s.end('through the handed-over socket');
    expect((await readAll(s)).toString()).toBe('through the handed-over socket');
    const s2 = await d.dial(port); // the same helper serves the next one
    s2.end('again');
    expect((await readAll(s2)).toString()).toBe('again');
  });

  it('a closed port is refused over IPv4 and IPv6, in containerd’s and Go’s words', async () => {
    const port = await closedPort();
    const d = localDialer();
    const e = (await d.dial(port).catch((x) => x)) as DialError;
    expect(e).toBeInstanceOf(DialError);
    expect(e.code).toBe('ERR_DIAL_REFUSED');
    expect(e.message).toBe(
      `failed to execute portforward in network namespace "/run/netns/test-ns": failed to connect to localhost:${port} inside namespace "test-ns", ` +
        `IPv4: dial tcp4 127.0.0.1:${port}: connect: connection refused IPv6 dial tcp6 [::1]:${port}: connect: ${e.message.split('connect: ').pop()}`,
    );
    expect(e.message).toMatch(
      /IPv4: dial tcp4 127\.0\.0\.1:\d+: connect: connection refused IPv6 dial tcp6 \[::1\]:\d+: connect: /,
    );
  });

  it('close() ends the helper', async () => {
    let child: ReturnType<typeof spawn> | null = null;
    const d = netnsDialer('x', {
      startHelper: () =>
        (child = spawn(process.execPath, ['-e', DIALER_HELPER_SOURCE], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })),
    });
    const port = await echoServer();
    (await d.dial(port)).destroy();
    const exited = once(child!, 'exit');
    d.close();
    await exited;
  });
});

describe('servePortForward', () => {
  const pod = { namespace: 'default', name: 'web', sandbox: 'pwlab-pod-web' };

  function forwardPair(client: SpdySession, port: number, requestId: string) {
    const h = { port: String(port), requestid: requestId };
    const error = client.openStream({ ...h, streamtype: 'error' });
    error.end(); // kubectl does not write to it
    const data = client.openStream({ ...h, streamtype: 'data' });
    return { error, data };
  }

  it('pairs by requestID and joins the data stream to the pod port; the error stream ends empty', async () => {
    const { client, server } = await sessionPair();
    servePortForward(server, pod, localDialer(), () => {});
    const port = await echoServer();
    const { error, data } = forwardPair(client, port, '0');
    data.end('hello pod');
    expect((await readAll(data)).toString()).toBe('hello pod');
    expect((await readAll(error)).length).toBe(0);
  });

  it('a closed port is reported on the error stream and the session serves the next connection', async () => {
    const { client, server } = await sessionPair();
    const logs: string[] = [];
    const stats = servePortForward(server, pod, localDialer(), (m) => logs.push(m));
    const bad = await closedPort();
    const a = forwardPair(client, bad, '0');
    a.data.resume();
    const msg = (await readAll(a.error)).toString();
    expect(msg).toMatch(
      new RegExp(
        `^error forwarding port ${bad} to pod pwlab-pod-web, uid : failed to execute portforward .*failed to connect to localhost:${bad}`,
      ),
    );
    expect(logs.join('\n')).toContain(`error forwarding port ${bad}`);
    const port = await echoServer();
    const b = forwardPair(client, port, '1');
    b.data.end('still here');
    expect((await readAll(b.data)).toString()).toBe('still here');
    expect(server.isClosed).toBe(false);
    expect(stats).toMatchObject({ pairs: 2, forwarded: 1, failed: 1 });
  });

  it('several connections at once over one session', async () => {
    const { client, server } = await sessionPair();
    servePortForward(server, pod, localDialer(), () => {});
    const port = await echoServer();
    const pairs = [0, 1, 2, 3].map((i) => forwardPair(client, port, String(i)));
    const bodies = pairs.map((_, i) => crypto.randomBytes(100_000 + i));
    pairs.forEach((p, i) => p.data.end(bodies[i]));
    const back = await Promise.all(pairs.map((p) => readAll(p.data)));
    back.forEach((b, i) => expect(b.equals(bodies[i])).toBe(true));
  });

  it('without requestID, pairs as the kubelet does for old clients (error stream id, data stream id − 2)', async () => {
    const { client, server } = await sessionPair();
    servePortForward(server, pod, localDialer(), () => {});
    const port = await echoServer();
    const error = client.openStream({ streamtype: 'error', port: String(port) });
    error.end();
    const data = client.openStream({ streamtype: 'data', port: String(port) });
    data.end('legacy');
    expect((await readAll(data)).toString()).toBe('legacy');
  });

  it('refuses streams with a bad port or type (RST), and reports a lone stream that times out', async () => {
    const { client, server } = await sessionPair();
    servePortForward(server, pod, localDialer(), () => {}, 100);
    await expect(client.openStream({ streamtype: 'data', port: '0' }).replied).rejects.toThrow(/reset/);
    await expect(client.openStream({ streamtype: 'data' }).replied).rejects.toThrow(/reset/);
    await expect(client.openStream({ streamtype: 'stdin', port: '80' }).replied).rejects.toThrow(/reset/);
    const lone = client.openStream({ streamtype: 'error', port: '80', requestid: '9' });
    lone.end();
    expect((await readAll(lone)).toString()).toBe('(request=9) timed out waiting for streams');
  });

  it('the pod connection is closed when the client resets the data stream or the session goes', async () => {
    const { client, server } = await sessionPair();
    servePortForward(server, pod, localDialer(), () => {});
    let podSide: net.Socket | null = null;
    const srv = net.createServer((s) => (podSide = s)).listen(0, '127.0.0.1');
    await once(srv, 'listening');
    cleanups.push(() => srv.close());
    const { data } = forwardPair(client, (srv.address() as net.AddressInfo).port, '0');
    await data.replied;
    await until(() => podSide !== null);
    const closed = once(podSide!, 'close');
    data.reset(RstStatus.CANCEL);
    await closed;
    const { data: d2 } = forwardPair(client, (srv.address() as net.AddressInfo).port, '1');
    await d2.replied;
    await until(() => podSide !== null && !podSide.destroyed);
    const closed2 = once(podSide!, 'close');
    client.destroy();
    await closed2;
  });
});
