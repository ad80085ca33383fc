import { describe, it, expect, afterAll } from 'vitest';
import fc from 'fast-check';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  ConsoleFrameReader,
  EarlyOutput,
  ERR,
  EXITED,
  INPUT,
  INPUT_CLOSED,
  MAX_CONSOLE_FRAME,
  OUT,
  consoleFrame,
  consoleFrames,
  resizeFrame,
} from '../../../src/kubelet/streams/console-protocol.js';
import { holderArgs, parseHolderArgs, runHolder } from '../../../src/kubelet/streams/console-holder.js';
import { consoleArgv } from '../../../src/kubelet/streams/console.js';

// A container's console holder: the framing it speaks with the agent (pure),
// then the holder itself with real processes on pipes and on a terminal.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-console-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('console framing', () => {
  it('frames survive any cut of the byte stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(INPUT, OUT, ERR, EXITED), fc.uint8Array({ maxLength: 300 })), {
          maxLength: 8,
        }),
        fc.array(fc.nat(400), { maxLength: 6 }),
        (frames, cuts) => {
          const bytes = Buffer.concat(frames.map(([t, d]) => consoleFrame(t, d)));
          const r = new ConsoleFrameReader();
          const got = [];
          let off = 0;
          for (const c of [...cuts.map((n) => Math.min(n, bytes.length)).sort((a, b) => a - b), bytes.length]) {
            got.push(...r.push(bytes.subarray(off, Math.max(off, c))));
            off = Math.max(off, c);
          }
          expect(got.map((f) => [f.type, [...f.data]])).toEqual(frames.map(([t, d]) => [t, [...d]]));
        },
      ),
    );
  });

  it('large data is split; a frame announcing more than the maximum is refused', () => {
    const big = Buffer.alloc(MAX_CONSOLE_FRAME + 10, 7);
    const frames = new ConsoleFrameReader().push(consoleFrames(OUT, big));
    expect(frames.map((f) => f.data.length)).toEqual([MAX_CONSOLE_FRAME, 10]);
    const bad = Buffer.from([OUT, 0xff, 0xff, 0xff, 0xff]);
    expect(() => new ConsoleFrameReader().push(bad)).toThrow(/console frame/);
    expect([...resizeFrame(132, 41)]).toEqual([2, 0, 0, 0, 4, 0, 132, 0, 41]);
  });

  it('early output keeps the newest past its bound', () => {
    const e = new EarlyOutput(10);
    e.add(OUT, Buffer.from('aaaaaa'));
    e.add(ERR, Buffer.from('bbbbbb'));
    expect(e.take().map((f) => f.data.toString())).toEqual(['bbbbbb']);
    expect(e.size).toBe(0);
  });

  it('the holder’s command line round-trips; the runtime’s argv runs under node', () => {
    const o = { socket: '/s', tty: false, stdin: true, stdinOnce: true, argv: ['sh', '-c', 'cat', '--tty'] };
    expect(parseHolderArgs(holderArgs(o))).toEqual(o);
    const withNode = { ...o, nodeOptions: '--require /app/x.js' };
    expect(parseHolderArgs(holderArgs(withNode))).toEqual(withNode);
    // a container's NODE_OPTIONS is not the holder's: taken out of its start, handed to the command
    expect(consoleArgv({ stdin: true, env: { NODE_OPTIONS: '-r x' } }, '/s', ['sh'], '/h.js')).toEqual([
      '/usr/bin/env',
      '-u',
      'NODE_OPTIONS',
      process.execPath,
      '/h.js',
      '--socket',
      '/s',
      '--stdin',
      '--node-options',
      '-r x',
      '--',
      'sh',
    ]);
    expect(consoleArgv({ tty: true }, '/s', ['sh'], '/h.js')).toEqual([
      process.execPath,
      '/h.js',
      '--socket',
      '/s',
      '--tty',
      '--',
      'sh',
    ]);
  });
});

/** An attach: every frame the holder sends, until it closes. */
function attach(sock: string, send: Buffer[] = []): Promise<{ type: number; data: string }[]> {
  return new Promise((resolve, reject) => {
    const c = net.connect(sock);
    const r = new ConsoleFrameReader();
    const got: { type: number; data: string }[] = [];
    c.on('connect', () => send.forEach((b) => c.write(b)));
    c.on('data', (d: Buffer) => got.push(...r.push(d).map((f) => ({ type: f.type, data: f.data.toString() }))));
    c.on('error', reject);
    c.on('close', () => resolve(got));
  });
}

const text = (fs: { type: number; data: string }[], t: number) =>
  fs
    .filter((f) => f.type === t)
    .map((f) => f.data)
    .join('');

describe('the console holder', () => {
  it('stdin without a tty: pipes, output before the first attach replayed, EOF once that attach’s stdin ends, all logged', async () => {
    const sock = path.join(dir, 'pipes.sock');
    const logFile = path.join(dir, 'pipes.log');
    const logFd = fs.openSync(logFile, 'a');
    const h = await runHolder(
      {
        socket: sock,
        tty: false,
        stdin: true,
        stdinOnce: true,
        argv: ['/bin/sh', '-c', 'echo early; echo warn >&2; cat; echo done; exit 3'],
      },
      logFd,
    );
    // the first output is printed before anyone attaches
    const deadline = Date.now() + 5000;
    while (fs.statSync(logFile).size < 'early\nwarn\n'.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const got = await attach(sock, [consoleFrame(INPUT, 'piped\n'), consoleFrame(INPUT_CLOSED)]);
    expect(await h.exited).toBe(3);
    fs.closeSync(logFd);
    expect(text(got, OUT)).toBe('early\npiped\ndone\n');
    expect(text(got, ERR)).toBe('warn\n');
    expect(JSON.parse(got[got.length - 1].data)).toEqual({ code: 3, signal: null });
    expect(fs.readFileSync(logFile, 'utf8').split('\n').sort()).toEqual(['', 'done', 'early', 'piped', 'warn']);
    expect(fs.existsSync(sock)).toBe(false);
  });

  it('a command done before anyone attached waits a moment for the first attach, which gets all of it', async () => {
    const sock = path.join(dir, 'short.sock');
    const logFd = fs.openSync(path.join(dir, 'short.log'), 'a');
    const h = await runHolder(
      { socket: sock, tty: false, stdin: true, stdinOnce: true, argv: ['/bin/sh', '-c', 'echo 10.96.0.1'] },
      logFd,
      5000,
    );
    let ended = false;
    void h.exited.then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(ended).toBe(false);
    const got = await attach(sock);
    expect(await h.exited).toBe(0);
    fs.closeSync(logFd);
    expect(text(got, OUT)).toBe('10.96.0.1\n');
    expect(got[got.length - 1].type).toBe(EXITED);
    // nobody attaching: the console goes after the wait
    const t0 = Date.now();
    const nullFd = fs.openSync('/dev/null', 'a');
    const alone = await runHolder(
      { socket: sock, tty: false, stdin: true, stdinOnce: true, argv: ['/bin/true'] },
      nullFd,
      200,
    );
    expect(await alone.exited).toBe(0);
    fs.closeSync(nullFd);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(fs.existsSync(sock)).toBe(false);
  });

  it('tty: a terminal of the size asked, stderr on it, output in the log', async () => {
    const sock = path.join(dir, 'tty.sock');
    const logFile = path.join(dir, 'tty.log');
    const logFd = fs.openSync(logFile, 'a');
    const h = await runHolder(
      {
        socket: sock,
        tty: true,
        stdin: true,
        stdinOnce: true,
        argv: ['/bin/sh', '-c', 'read l; stty size; echo "got $l" >&2'],
      },
      logFd,
    );
    const got = await attach(sock, [resizeFrame(132, 41), consoleFrame(INPUT, 'hello\r')]);
    expect(await h.exited).toBe(0);
    fs.closeSync(logFd);
    const out = text(got, OUT);
    expect(out).toContain('41 132');
    expect(out).toContain('got hello');
    expect(text(got, ERR)).toBe('');
    expect(fs.readFileSync(logFile, 'utf8')).toContain('got hello');
  });
});
