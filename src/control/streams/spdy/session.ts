// A SPDY/3.1 session over any byte duplex: a TCP socket after `Upgrade:
// SPDY/3.1`, or a WebSocket whose binary messages tunnel the same bytes
// (KEP-4006, `SPDY/3.1+portforward.k8s.io`). It speaks what Kubernetes' peers
// speak — client-go and the kubelet use moby/spdystream, which opens streams
// with SYN_STREAM, answers with SYN_REPLY, half-closes with FIN and answers
// PINGs, and neither sends nor honours WINDOW_UPDATE. So this session never
// waits for send window (a peer that enforced SPDY/3.1 flow control would
// stall it after 64 KiB per stream; none of Kubernetes' does), and grants the
// peer window as it consumes data, which a flow-controlled peer needs and
// spdystream ignores. A reader that falls behind pauses the transport.
//
// Streams are Node duplexes: pipe a socket into one and it out to the socket.

import { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import { FrameReader, frame, FLAG_FIN, GoAwayStatus, RstStatus, type SpdyFrame } from './frames.js';
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders, type SpdyHeadersInit } from './header-block.js';
import { SpdyError } from './errors.js';

/** SPDY/3.1's initial window, per stream and for the session (§2.6.8). */
export const INITIAL_WINDOW = 64 * 1024;
/** Grant window back once this much of it is consumed. */
const WINDOW_UPDATE_THRESHOLD = INITIAL_WINDOW / 2;
/** Largest DATA frame this session sends (kubectl reads in 32 KiB). */
const MAX_DATA_FRAME = 64 * 1024;

export interface SpdySessionOptions {
  /** Servers open even stream ids and answer odd pings; clients the reverse. */
  isServer: boolean;
}

export interface SpdySessionEvents {
  /** A stream the peer opened; answer it with reply() or reset(). */
  stream: [SpdyStream];
  /** The peer sent GOAWAY: it opens no more streams. */
  goaway: [{ lastGoodStreamId: number; status: number }];
  /** The transport closed; every stream has been destroyed. */
  close: [];
  /** A protocol error ended the session (it closes after). */
  error: [Error];
}

export class SpdySession extends EventEmitter<SpdySessionEvents> {
  readonly isServer: boolean;
  private readonly reader = new FrameReader();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private nextStreamId: number;
  private nextPingId: number;
  private readonly pings = new Map<number, { t0: bigint; resolve: (ms: number) => void }>();
  private lastPeerStreamId = 0;
  private sessionConsumed = 0;
  private paused = new Set<SpdyStream>();
  private closed = false;
  goneAway = false;
  /** Frames received and sent, by type (for tests and the bench). */
  readonly counts = { received: new Map<string, number>(), sent: new Map<string, number>() };

  constructor(
    private readonly transport: Duplex,
    opts: SpdySessionOptions,
  ) {
    super();
    this.isServer = opts.isServer;
    this.nextStreamId = opts.isServer ? 2 : 1;
    this.nextPingId = opts.isServer ? 2 : 1;
    transport.on('data', (chunk: Buffer) => this.receive(chunk));
    transport.on('end', () => this.destroy());
    transport.on('close', () => this.destroy());
    transport.on('error', () => this.destroy());
  }

  get streamCount(): number {
    return this.streams.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Opens a stream (SYN_STREAM); its `replied` promise settles on SYN_REPLY or RST_STREAM. */
  openStream(headers: SpdyHeadersInit, opts: { fin?: boolean; priority?: number } = {}): SpdyStream {
    if (this.closed || this.goneAway) throw new SpdyError('ERR_SPDY_CLOSED', 'the session is closed');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const s = new SpdyStream(this, id, normalise(headers), true);
    this.streams.set(id, s);
    this.send({
      type: 'syn_stream',
      streamId: id,
      associatedTo: 0,
      priority: opts.priority ?? 0,
      slot: 0,
      flags: opts.fin ? FLAG_FIN : 0,
      headerBlock: this.compressor.compress(headers),
    });
    if (opts.fin) s.end();
    return s;
  }

  /** Round trip of a PING, in milliseconds. */
  ping(): Promise<number> {
    const id = this.nextPingId;
    this.nextPingId = (this.nextPingId + 2) >>> 0;
    return new Promise((resolve) => {
      this.pings.set(id, { t0: process.hrtime.bigint(), resolve });
      this.send({ type: 'ping', id });
    });
  }

  /** GOAWAY, then the transport ends once no stream is left. */
  goAway(status: number = GoAwayStatus.OK): void {
    if (this.closed || this.goneAway) return;
    this.goneAway = true;
    this.send({ type: 'goaway', lastGoodStreamId: this.lastPeerStreamId, status });
    this.maybeFinish();
  }

  /** Ends the session now: every stream destroyed, the transport closed. */
  destroy(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.streams.values()]) s.destroy();
    this.streams.clear();
    for (const p of this.pings.values()) p.resolve(Number.NaN);
    this.pings.clear();
    this.transport.destroy();
    if (err) this.emit('error', err);
    this.emit('close');
  }

  // ---- sending ----

  /** @internal */
  send(f: SpdyFrame, cb?: (err?: Error | null) => void): boolean {
    if (this.closed) {
      cb?.(new SpdyError('ERR_SPDY_CLOSED', 'the session is closed'));
      return false;
    }
    bump(this.counts.sent, f.type);
    return this.transport.write(frame.encode(f), cb);
  }

  /** @internal writes DATA in frames of at most MAX_DATA_FRAME; cb once the transport took the last. */
  sendData(id: number, data: Buffer, fin: boolean, cb: (err?: Error | null) => void): void {
    if (data.length <= MAX_DATA_FRAME) {
      this.writeWithBackpressure({ type: 'data', streamId: id, flags: fin ? FLAG_FIN : 0, data }, cb);
      return;
    }
    for (let off = 0; off < data.length; off += MAX_DATA_FRAME) {
      const last = off + MAX_DATA_FRAME >= data.length;
      const part = data.subarray(off, off + MAX_DATA_FRAME);
      if (last) this.writeWithBackpressure({ type: 'data', streamId: id, flags: fin ? FLAG_FIN : 0, data: part }, cb);
      else this.send({ type: 'data', streamId: id, flags: 0, data: part });
    }
  }

  private writeWithBackpressure(f: SpdyFrame, cb: (err?: Error | null) => void): void {
    if (this.send(f)) cb();
    else if (this.closed) cb(new SpdyError('ERR_SPDY_CLOSED', 'the session is closed'));
    else {
      const done = () => {
        this.transport.off('drain', done);
        this.transport.off('close', done);
        cb(this.closed ? new SpdyError('ERR_SPDY_CLOSED', 'the session is closed') : null);
      };
      this.transport.on('drain', done);
      this.transport.on('close', done);
    }
  }

  /** @internal */
  reply(s: SpdyStream, headers: SpdyHeadersInit, fin: boolean): void {
    this.send({
      type: 'syn_reply',
      streamId: s.id,
      flags: fin ? FLAG_FIN : 0,
      headerBlock: this.compressor.compress(headers),
    });
  }

  /** @internal a stream's reader fell behind: stop reading the transport until it catches up */
  pauseFor(s: SpdyStream): void {
    this.paused.add(s);
    this.transport.pause();
  }

  /** @internal */
  resumeFor(s: SpdyStream): void {
    if (!this.paused.delete(s)) return;
    if (this.paused.size === 0 && !this.closed) this.transport.resume();
  }

  /** @internal the stream's data was consumed: grant window back (SPDY/3.1 §2.6.8) */
  consumed(s: SpdyStream, n: number): void {
    this.sessionConsumed += n;
    if (this.sessionConsumed >= WINDOW_UPDATE_THRESHOLD) {
      this.send({ type: 'window_update', streamId: 0, delta: this.sessionConsumed });
      this.sessionConsumed = 0;
    }
    s.windowConsumed += n;
    if (s.windowConsumed >= WINDOW_UPDATE_THRESHOLD && !s.remoteFin) {
      this.send({ type: 'window_update', streamId: s.id, delta: s.windowConsumed });
      s.windowConsumed = 0;
    }
  }

  /** @internal */
  forget(s: SpdyStream): void {
    this.streams.delete(s.id);
    this.resumeFor(s);
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.goneAway && this.streams.size === 0 && !this.closed) {
      this.transport.end();
      this.closed = true;
      this.emit('close');
    }
  }

  // ---- receiving ----

  /** Feeds transport bytes (called by the transport's 'data'; public for tests). */
  receive(chunk: Buffer): void {
    if (this.closed) return;
    let frames: SpdyFrame[];
    try {
      frames = this.reader.push(chunk);
    } catch (e) {
      this.protocolError(e as Error);
      return;
    }
    for (const f of frames) {
      if (this.closed) return;
      bump(this.counts.received, f.type);
      try {
        this.handle(f);
      } catch (e) {
        this.protocolError(e as Error);
        return;
      }
    }
  }

  private protocolError(e: Error): void {
    if (this.closed) return;
    try {
      this.send({ type: 'goaway', lastGoodStreamId: this.lastPeerStreamId, status: GoAwayStatus.PROTOCOL_ERROR });
    } catch {
      /* the transport is gone */
    }
    this.destroy(e);
  }

  private handle(f: SpdyFrame): void {
    switch (f.type) {
      case 'data': {
        const s = this.streams.get(f.streamId);
        if (!s) {
          // a stream already reset or finished here: tell the peer once, as spdystream expects nothing more
          if (f.data.length || !(f.flags & FLAG_FIN)) this.rst(f.streamId, RstStatus.INVALID_STREAM);
          return;
        }
        s.onData(f.data, (f.flags & FLAG_FIN) !== 0);
        return;
      }
      case 'syn_stream': {
        // the header block must be inflated even for a stream refused, or the zlib context falls out of step
        const headers = this.decompressor.decompress(f.headerBlock);
        const peerParity = this.isServer ? 1 : 0;
        if (f.streamId === 0 || f.streamId % 2 !== peerParity || f.streamId <= this.lastPeerStreamId) {
          this.rst(f.streamId, RstStatus.PROTOCOL_ERROR);
          return;
        }
        this.lastPeerStreamId = f.streamId;
        if (this.goneAway) {
          this.rst(f.streamId, RstStatus.REFUSED_STREAM);
          return;
        }
        const s = new SpdyStream(this, f.streamId, headers, false);
        this.streams.set(f.streamId, s);
        if (f.flags & FLAG_FIN) s.onData(Buffer.alloc(0), true);
        this.emit('stream', s);
        return;
      }
      case 'syn_reply': {
        const headers = this.decompressor.decompress(f.headerBlock);
        const s = this.streams.get(f.streamId);
        if (!s) return;
        s.onReply(headers);
        if (f.flags & FLAG_FIN) s.onData(Buffer.alloc(0), true);
        return;
      }
      case 'headers': {
        const headers = this.decompressor.decompress(f.headerBlock);
        const s = this.streams.get(f.streamId);
        if (!s) return;
        s.emit('headers', headers);
        if (f.flags & FLAG_FIN) s.onData(Buffer.alloc(0), true);
        return;
      }
      case 'rst_stream':
        this.streams.get(f.streamId)?.onReset(f.status);
        return;
      case 'ping': {
        const mine = (f.id % 2 === 0) === this.isServer;
        if (!mine) {
          this.send({ type: 'ping', id: f.id });
          return;
        }
        const p = this.pings.get(f.id);
        if (p) {
          this.pings.delete(f.id);
          p.resolve(Number(process.hrtime.bigint() - p.t0) / 1e6);
        }
        return;
      }
      case 'goaway':
        this.goneAway = true;
        this.emit('goaway', { lastGoodStreamId: f.lastGoodStreamId, status: f.status });
        this.maybeFinish();
        return;
      case 'settings':
      case 'window_update':
      case 'unknown':
        // no send-side flow control (see the top of this file); settings are advisory
        return;
    }
  }

  private rst(streamId: number, status: number): void {
    this.send({ type: 'rst_stream', streamId, status });
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function normalise(h: SpdyHeadersInit): SpdyHeaders {
  const out: SpdyHeaders = Object.create(null);
  for (const [k, v] of Object.entries(h)) out[k] = typeof v === 'string' ? [v] : [...v];
  return out;
}

/**
 * One SPDY stream as a Node duplex: what is written goes out as DATA frames,
 * end() sends FIN, the peer's DATA is read, its FIN ends the readable side.
 * destroy() before both sides finished sends RST_STREAM (CANCEL).
 */
export class SpdyStream extends Duplex {
  /** The peer's RST_STREAM status, if it reset this stream. */
  resetStatus: number | null = null;
  remoteFin = false;
  private localFin = false;
  private answered = false;
  /** @internal */
  windowConsumed = 0;
  /** Settles with the peer's SYN_REPLY headers (streams this side opened). */
  readonly replied: Promise<SpdyHeaders>;
  private settleReply!: { resolve: (h: SpdyHeaders) => void; reject: (e: Error) => void };

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    /** SYN_STREAM headers (the peer's, or ours for a stream opened here). */
    readonly headers: SpdyHeaders,
    readonly local: boolean,
  ) {
    super({ allowHalfOpen: true });
    this.replied = new Promise((resolve, reject) => (this.settleReply = { resolve, reject }));
    this.replied.catch(() => {}); // a stream nobody awaits may be reset
    if (!local) this.answered = false;
  }

  /** The first value of a header. */
  header(name: string): string | undefined {
    return this.headers[name]?.[0];
  }

  /** Accepts a stream the peer opened (SYN_REPLY). */
  reply(headers: SpdyHeadersInit = {}): void {
    if (this.local || this.answered || this.destroyed) return;
    this.answered = true;
    this.session.reply(this, headers, false);
  }

  /** Refuses or abandons the stream (RST_STREAM). */
  reset(status: number = RstStatus.CANCEL): void {
    if (this.destroyed) return;
    if (!this.session.isClosed) this.session.send({ type: 'rst_stream', streamId: this.id, status });
    this.localFin = this.remoteFin = true; // nothing more is sent for it
    this.destroy();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.local && !this.answered) this.reply();
    this.session.sendData(this.id, chunk, false, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.local && !this.answered) this.reply();
    this.localFin = true;
    this.session.sendData(this.id, Buffer.alloc(0), true, cb);
    this.maybeDone();
  }

  override _read(): void {
    this.session.resumeFor(this);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!(this.localFin && this.remoteFin) && !this.session.isClosed) {
      this.session.send({ type: 'rst_stream', streamId: this.id, status: RstStatus.CANCEL });
      this.localFin = this.remoteFin = true;
    }
    if (this.local)
      this.settleReply.reject(new SpdyError('ERR_SPDY_STREAM', `stream ${this.id} closed before its reply`));
    this.session.forget(this);
    cb(err);
  }

  /** @internal */
  onData(data: Buffer, fin: boolean): void {
    if (this.remoteFin) {
      this.reset(RstStatus.STREAM_ALREADY_CLOSED);
      return;
    }
    if (data.length) {
      this.session.consumed(this, data.length);
      if (!this.push(data)) this.session.pauseFor(this);
    }
    if (fin) {
      this.remoteFin = true;
      this.push(null);
      this.maybeDone();
    }
  }

  /** @internal */
  onReply(headers: SpdyHeaders): void {
    this.answered = true;
    this.settleReply.resolve(headers);
    this.emit('reply', headers);
  }

  /** @internal */
  onReset(status: number): void {
    this.resetStatus = status;
    this.localFin = this.remoteFin = true;
    this.settleReply.reject(new SpdyError('ERR_SPDY_STREAM', `stream ${this.id} reset by the peer (status ${status})`));
    this.emit('reset', status);
    this.destroy();
  }

  private maybeDone(): void {
    if (this.localFin && this.remoteFin) this.session.forget(this);
  }
}
