import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  JsonObjectReader,
  expectedStreams,
  negotiateChannelProtocol,
  statusBytes,
} from '../../../src/kubelet/streams/spdy-channels.js';
import { exitStatus, parseStreamOptions } from '../../../src/control/streams/index.js';

// exec/attach over SPDY/3.1: what is negotiated, which streams are waited
// for, what the error stream carries, how the resize stream is read.

describe('exec and attach over SPDY', () => {
  it('negotiates in the client’s order among the versions spoken here', () => {
    expect(negotiateChannelProtocol(['v4.channel.k8s.io,v3.channel.k8s.io'])).toBe('v4.channel.k8s.io');
    expect(negotiateChannelProtocol(['v5.channel.k8s.io', 'v3.channel.k8s.io', 'v4.channel.k8s.io'])).toBe(
      'v3.channel.k8s.io',
    );
    expect(negotiateChannelProtocol([])).toBe('channel.k8s.io');
    expect(negotiateChannelProtocol(['portforward.k8s.io'])).toBeNull();
  });

  it('waits for error and the streams asked for; resize only for a TTY from v3', () => {
    const q = (s: string) => parseStreamOptions(new URLSearchParams(s));
    expect(expectedStreams(q('stdin=true&stdout=true&stderr=true'), 'v4.channel.k8s.io')).toEqual([
      'error',
      'stdin',
      'stdout',
      'stderr',
    ]);
    // with a TTY, stderr is the terminal: no stream of its own
    expect(expectedStreams(q('stdin=true&stdout=true&stderr=true&tty=true'), 'v4.channel.k8s.io')).toEqual([
      'error',
      'stdin',
      'stdout',
      'resize',
    ]);
    expect(expectedStreams(q('stdout=true&tty=true'), 'v2.channel.k8s.io')).toEqual(['error', 'stdout']);
  });

  it('the error stream: v4 the Status as JSON, before v4 a failure’s message only', () => {
    expect(JSON.parse(statusBytes(exitStatus(2), 'v4.channel.k8s.io').toString())).toMatchObject({
      reason: 'NonZeroExitCode',
    });
    expect(statusBytes(exitStatus(0), 'v3.channel.k8s.io').length).toBe(0);
    expect(statusBytes(exitStatus(2), 'v3.channel.k8s.io').toString()).toBe(
      'command terminated with non-zero exit code: exit status 2',
    );
  });

  it('resize messages are JSON objects one after the other, however cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(500), fc.nat(500)), { maxLength: 5 }),
        fc.array(fc.nat(120), { maxLength: 5 }),
        (sizes, cuts) => {
          const s = sizes.map(([w, h]) => JSON.stringify({ Width: w, Height: h, Note: '}{"' })).join('\n');
          const r = new JsonObjectReader();
          const got: string[] = [];
          let off = 0;
          for (const c of [...cuts.map((n) => Math.min(n, s.length)).sort((a, b) => a - b), s.length]) {
            got.push(...r.push(s.slice(off, Math.max(off, c))));
            off = Math.max(off, c);
          }
          expect(got.map((o) => JSON.parse(o))).toEqual(sizes.map(([w, h]) => ({ Width: w, Height: h, Note: '}{"' })));
        },
      ),
    );
  });
});
