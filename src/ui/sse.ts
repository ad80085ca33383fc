import type { ServerResponse } from 'node:http';

/**
 * The Server-Sent Events side of GET /api/events: every connected page gets each broadcast event;
 * a comment line every 15 s keeps proxies and the browser from calling an idle stream dead, and
 * `retry:` tells EventSource how soon to reconnect when the server restarts.
 */
export const HEARTBEAT_MS = 15_000;
export const RETRY_MS = 2000;

/** One SSE message: `event:` and a JSON `data:` line (JSON has no raw newlines). */
export const sseMessage = (event: string, data: unknown): string =>
  `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export class SseHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;
  /** bytes and messages written, for the benchmark */
  bytes = 0;
  messages = 0;

  constructor(heartbeatMs = HEARTBEAT_MS) {
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Take over a response as an event stream; `initial` are the messages it starts with. */
  attach(res: ServerResponse, initial: [string, unknown][]): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${RETRY_MS}\n\n`);
    for (const [event, data] of initial) res.write(sseMessage(event, data));
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  broadcast(event: string, data: unknown): void {
    if (!this.clients.size) return;
    this.messages++;
    this.write(sseMessage(event, data));
  }

  private write(text: string): void {
    for (const c of this.clients) {
      // a page that stopped reading (a hung tab) is let go rather than buffered without end
      if (c.writableLength > 8 * 1024 * 1024) {
        c.destroy();
        this.clients.delete(c);
        continue;
      }
      c.write(text);
      this.bytes += Buffer.byteLength(text);
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
