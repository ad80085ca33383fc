import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../src/lab/index.js';
import { SseHub } from '../../../src/ui/index.js';

// The event stream on a real loopback HTTP server: what a page receives at connect, broadcasts,
// the heartbeat, and a page that goes away.
let server: http.Server | undefined;
let hub: SseHub | undefined;

afterEach(async () => {
  hub?.close();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

async function serve(heartbeatMs: number) {
  hub = new SseHub(heartbeatMs);
  server = http.createServer((_req, res) => hub!.attach(res, [['topology', { nodes: [] }]]));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function follow(port: number) {
  let text = '';
  let headers: http.IncomingHttpHeaders = {};
  const req = http.get({ host: '127.0.0.1', port, path: '/' }, (res) => {
    headers = res.headers;
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
  });
  return { text: () => text, headers: () => headers, req };
}

describe('the SSE hub', () => {
  it('starts a stream with retry and the initial events, then sends every broadcast and a heartbeat', async () => {
    const port = await serve(50);
    const page = follow(port);
    await waitFor('the initial events', 5000, () => page.text().includes('event: topology'));
    expect(page.headers()['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(page.headers()['cache-control']).toBe('no-cache');
    expect(page.text().startsWith('retry: 2000\n\nevent: topology\ndata: {"nodes":[]}\n\n')).toBe(true);
    expect(hub!.size).toBe(1);
    hub!.broadcast('status', { apiserver: 'down', agents: {} });
    await waitFor('the broadcast', 5000, () => page.text().includes('event: status'));
    await waitFor('a heartbeat comment', 5000, () => page.text().includes(': heartbeat\n\n'));
    expect(hub!.messages).toBe(1);
    page.req.destroy();
    await waitFor('the page to be let go', 5000, () => hub!.size === 0);
    hub!.broadcast('status', {}); // nobody left: nothing written, nothing thrown
  });
});
