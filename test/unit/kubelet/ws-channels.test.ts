import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  pickProtocol,
  encodeFrame,
  encodeClose,
  decodeFrame,
  parseResize,
  exitStatus,
  exitCodeOf,
  parseStreamOptions,
} from '../../../src/control/streams/index.js';
import { parseStreamPath } from '../../../src/kubelet/streams/server.js';

// The channel framing kubectl's WebSocket executor speaks (v5/v4.channel.k8s.io).

describe('channel protocols', () => {
  it('picks v5 over v4 whatever the order offered, and nothing else', () => {
    expect(pickProtocol(['v4.channel.k8s.io', 'v5.channel.k8s.io'])).toBe('v5.channel.k8s.io');
    expect(pickProtocol([' v4.channel.k8s.io'])).toBe('v4.channel.k8s.io');
    expect(pickProtocol(['channel.k8s.io', 'base64.channel.k8s.io'])).toBeNull();
    expect(pickProtocol([])).toBeNull();
  });
});

describe('frames', () => {
  it('round-trips any channel and payload', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 254 }), fc.uint8Array({ maxLength: 300 }), (ch, data) => {
        const f = decodeFrame(encodeFrame(ch, data), 'v5.channel.k8s.io');
        expect(f).toEqual({ kind: 'data', channel: ch, data: Buffer.from(data) });
      }),
    );
  });
  it('reads v5 close signals; v4 has none', () => {
    expect(decodeFrame(encodeClose(0), 'v5.channel.k8s.io')).toEqual({ kind: 'close', channel: 0 });
    expect(decodeFrame(encodeClose(0), 'v4.channel.k8s.io')).toEqual({
      kind: 'data',
      channel: 255,
      data: Buffer.from([0]),
    });
    expect(decodeFrame(Buffer.from([255, 0, 1]), 'v5.channel.k8s.io').kind).toBe('invalid');
    expect(decodeFrame(Buffer.alloc(0), 'v5.channel.k8s.io')).toEqual({ kind: 'empty' });
  });
  it('encodes strings as UTF-8 after the channel byte', () => {
    expect([...encodeFrame(1, 'hé')]).toEqual([1, 0x68, 0xc3, 0xa9]);
  });
});

describe('resize and status', () => {
  it('parses kubectl TerminalSize and refuses the rest', () => {
    expect(parseResize('{"Width":132,"Height":41}')).toEqual({ width: 132, height: 41 });
    expect(parseResize('{"Width":"a","Height":1}')).toBeNull();
    expect(parseResize('{"Width":70000,"Height":1}')).toBeNull();
    expect(parseResize('nope')).toBeNull();
  });
  it('exit codes as kubectl reads them (NonZeroExitCode, causes ExitCode)', () => {
    expect(exitStatus(0)).toEqual({ metadata: {}, status: 'Success' });
    const s = exitStatus(130) as { reason: string; details: { causes: { reason: string; message: string }[] } };
    expect(s.reason).toBe('NonZeroExitCode');
    expect(s.details.causes).toEqual([{ reason: 'ExitCode', message: '130' }]);
    expect(exitCodeOf(null, 'SIGINT')).toBe(130);
    expect(exitCodeOf(null, 'SIGKILL')).toBe(137);
    expect(exitCodeOf(7, null)).toBe(7);
  });
  it('stream options: repeated command, tty drops stderr', () => {
    const o = parseStreamOptions(
      new URLSearchParams('command=sh&command=-c&command=echo+a&stdin=true&stdout=true&stderr=true&tty=true'),
    );
    expect(o).toEqual({ stdin: true, stdout: true, stderr: false, tty: true, command: ['sh', '-c', 'echo a'] });
    expect(parseStreamOptions(new URLSearchParams('command=true&stderr=true')).stderr).toBe(true);
  });
});

describe('kubelet paths', () => {
  it('parses exec, attach and portForward', () => {
    expect(parseStreamPath(new URL('http://k/exec/default/web/app?command=ls'))).toMatchObject({
      kind: 'exec',
      namespace: 'default',
      pod: 'web',
      container: 'app',
    });
    expect(parseStreamPath(new URL('http://k/portForward/ns/p'))).toMatchObject({ kind: 'portforward', pod: 'p' });
    expect(parseStreamPath(new URL('http://k/exec/default/web'))).toBeNull();
    expect(parseStreamPath(new URL('http://k/portForward/a/b/c'))).toBeNull();
    expect(parseStreamPath(new URL('http://k/containerLogs/a/b/c'))).toBeNull();
  });
});
