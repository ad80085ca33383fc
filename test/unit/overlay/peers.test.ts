// Peer nodes: the peers file (parsed strictly, watched for changes), the
// Peer each spec becomes, the table the pipeline routes by, and the CIDR
// text form all of them share.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FilePeerSource, parsePeerSpecs, toPeer, vtepMacFor, type PeerSpec } from '../../../src/overlay/index.js';
import { PeerConfigError } from '../../../src/overlay/peers.js';
import {
  CidrError,
  PeerTable,
  cidrContains,
  cidrHost,
  cidrSize,
  formatCidr,
  parseCidr,
  type Peer,
} from '../../../src/dataplane/index.js';
import { macToString, parseIpv4 } from '../../../src/packet/index.js';
import { waitFor } from '../../../src/lab/index.js';
import { errorOf } from '../support/errors.js';

const NODE2: PeerSpec = { name: 'node2', nodeIp: '172.28.0.12', podCidr: '10.244.2.0/24' };
const NODE3: PeerSpec = {
  name: 'node3',
  nodeIp: '172.28.0.13',
  podCidr: '10.244.3.0/24',
  vtepMac: '02:aa:bb:cc:dd:ee',
};

/** The error a thunk throws (fails the test if it returns). */

describe('parsePeerSpecs', () => {
  it('accepts a well-formed document and returns the specs as given', () => {
    expect(parsePeerSpecs({ peers: [NODE2, NODE3] }, 'peers.json')).toEqual([NODE2, NODE3]);
    expect(parsePeerSpecs({ peers: [] }, 'peers.json')).toEqual([]);
  });

  const bad = (over: Record<string, unknown>, drop?: string) => {
    const p: Record<string, unknown> = { ...NODE2, ...over };
    if (drop) delete p[drop];
    return { peers: [NODE3, p] };
  };

  it.each([
    { what: 'an unknown field', doc: bad({ podCIDR: '10.244.2.0/24' }), field: /peers\[1\]: unknown field "podCIDR"/ },
    { what: 'no name', doc: bad({}, 'name'), field: /peers\[1\]\.name: required/ },
    { what: 'an empty name', doc: bad({ name: '' }), field: /peers\[1\]\.name: required/ },
    { what: 'no nodeIp', doc: bad({}, 'nodeIp'), field: /peers\[1\]\.nodeIp: required/ },
    { what: 'a numeric nodeIp', doc: bad({ nodeIp: 2887516172 }), field: /peers\[1\]\.nodeIp: required/ },
    { what: 'no podCidr', doc: bad({}, 'podCidr'), field: /peers\[1\]\.podCidr: required/ },
    { what: 'a peer that is not an object', doc: { peers: ['node2'] }, field: /peers\[0\]: expected an object/ },
    { what: 'no peers list', doc: { nodes: [] }, field: /expected \{"peers": \[\.\.\.\]\}/ },
    { what: 'null', doc: null, field: /expected \{"peers": \[\.\.\.\]\}/ },
  ])('$what → ERR_BAD_PEERS naming where ($field)', ({ doc, field }) => {
    const err = errorOf(() => parsePeerSpecs(doc, '/run/podwire/pwlab/peers.json'));
    expect(err).toBeInstanceOf(PeerConfigError);
    expect(err.code).toBe('ERR_BAD_PEERS');
    expect(err.message).toMatch(/^\/run\/podwire\/pwlab\/peers\.json: /);
    expect(err.message).toMatch(field);
  });

  const BAD_VALUES = [
    { what: 'a bad IP', doc: bad({ nodeIp: '172.28.0.300' }), value: '172.28.0.300', field: 'nodeIp' },
    {
      what: 'a CIDR with host bits set',
      doc: bad({ podCidr: '10.244.2.1/24' }),
      value: '10.244.2.1/24',
      field: 'podCidr',
    },
    { what: 'a prefix above 32', doc: bad({ podCidr: '10.244.2.0/33' }), value: '10.244.2.0/33', field: 'podCidr' },
    {
      what: 'a bad VTEP MAC',
      doc: bad({ vtepMac: '0e:77:zz:00:00:01' }),
      value: '0e:77:zz:00:00:01',
      field: 'vtepMac',
    },
  ];

  it.each(BAD_VALUES)('$what → ERR_BAD_PEERS naming the peer and the value', ({ doc, value }) => {
    const err = errorOf(() => parsePeerSpecs(doc, 'peers.json'));
    expect(err).toBeInstanceOf(PeerConfigError);
    expect(err.code).toBe('ERR_BAD_PEERS');
    expect(err.message).toContain('peers.json: peers[1]');
    expect(err.message).toContain(value);
  });

  // Regression test (was a bug, now fixed): parsePeerSpecs (src/overlay/peers.ts, lines 42-48) validates
  // nodeIp, podCidr and vtepMac in one try block and reports a failure as
  // `${where}: peers[i]: <parser message>`, so the message names the value
  // but never the field ("peers.json: peers[1]: not an IPv4 address:
  // \"172.28.0.300\""), unlike the missing-field errors
  // ("peers[1].nodeIp: required IPv4 address"). The reader has to guess
  // which field held the bad value.
  it.each(BAD_VALUES)('$what → the error names the field ($field)', ({ doc, field }) => {
    const err = errorOf(() => parsePeerSpecs(doc, 'peers.json'));
    expect(err.message).toContain(`peers[1].${field}`);
  });
});

describe('toPeer', () => {
  it('derives the VTEP MAC from the node IP: 0e:77 + the four address bytes', () => {
    const p = toPeer(NODE2);
    expect(p.name).toBe('node2');
    expect(p.nodeIp).toBe(parseIpv4('172.28.0.12'));
    expect(p.podCidr).toEqual({ network: parseIpv4('10.244.2.0'), prefixLen: 24 });
    expect(macToString(p.vtepMac)).toBe('0e:77:ac:1c:00:0c');
    expect(p.vtepMac).toEqual(vtepMacFor('172.28.0.12'));
    expect(macToString(vtepMacFor(parseIpv4('255.1.128.7')))).toBe('0e:77:ff:01:80:07');
  });

  it('keeps an explicit VTEP MAC', () => {
    expect(macToString(toPeer(NODE3).vtepMac)).toBe('02:aa:bb:cc:dd:ee');
  });
});

describe('FilePeerSource', () => {
  let dir: string;
  let file: string;
  const sources: FilePeerSource[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwire-peers-'));
    file = path.join(dir, 'peers.json');
  });
  afterEach(() => {
    vi.restoreAllMocks();
    for (const s of sources.splice(0)) s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const write = (doc: unknown, pad = 0) =>
    fs.writeFileSync(file, (typeof doc === 'string' ? doc : JSON.stringify(doc)) + ' '.repeat(pad));

  function watch(
    onError: (err: Error) => void = (err) => {
      throw err;
    },
  ): { seen: PeerSpec[][]; source: FilePeerSource } {
    const seen: PeerSpec[][] = [];
    const source = new FilePeerSource(file, onError, 10);
    sources.push(source);
    source.start((peers) => seen.push(peers));
    return { seen, source };
  }

  /**
   * Rewrite the file (a byte longer each time) until `seen` ends with its
   * peers. fs.watchFile takes its first stat asynchronously after start(),
   * so a write that lands before that stat is its baseline, not a change;
   * writing again until the change shows up makes the test independent of
   * that timing.
   */
  async function rewriteUntilSeen(doc: { peers: PeerSpec[] }, seen: PeerSpec[][]): Promise<void> {
    let pad = 0;
    await waitFor(
      `a report of ${JSON.stringify(doc)}`,
      5_000,
      () => {
        if (seen.length > 1 && isDeepStrictEqual(seen.at(-1), doc.peers)) return true;
        write(doc, pad++);
        return false;
      },
      15,
    );
  }

  it('reports the file now, and again after every change', async () => {
    write({ peers: [NODE2] });
    const { seen } = watch();
    expect(seen).toEqual([[NODE2]]);
    await rewriteUntilSeen({ peers: [NODE2, NODE3] }, seen);
    expect(seen.slice(1).every((s) => isDeepStrictEqual(s, [NODE2, NODE3]))).toBe(true);
  });

  it('keeps the last good set when the file turns bad, and says why', async () => {
    write({ peers: [NODE2] });
    const errors: Error[] = [];
    const { seen } = watch((err) => errors.push(err));
    await rewriteUntilSeen({ peers: [NODE3] }, seen); // the watcher is live from here on
    const reports = seen.length;
    write('{"peers": [ {"name": "node2", '); // a half-written file
    await waitFor('an error for the bad file', 5_000, () => errors.length > 0, 5);
    expect(errors[0]).toBeInstanceOf(SyntaxError);
    write({ peers: [NODE3, { ...NODE2, nodeIp: '1.2.3' }] });
    await waitFor('an error for the bad peer', 5_000, () => errors.length > 1, 5);
    expect(errors[1]).toBeInstanceOf(PeerConfigError);
    expect(errors[1].message).toContain('peers[1]');
    expect(seen).toHaveLength(reports);
    expect(seen.at(-1)).toEqual([NODE3]);
    write({ peers: [NODE2, NODE3] });
    await waitFor('the good set again', 5_000, () => seen.length > reports, 5);
    expect(seen.at(-1)).toEqual([NODE2, NODE3]);
  });

  it('a missing file is an empty set', () => {
    expect(watch().seen).toEqual([[]]);
  });

  it('stops reporting after stop()', async () => {
    write({ peers: [NODE2] });
    const stopped = watch();
    stopped.source.stop();
    // A second source on the same file sees the rewrites, so a first one
    // still running would have seen them too.
    const witness = watch();
    await rewriteUntilSeen({ peers: [NODE3] }, witness.seen);
    expect(stopped.seen).toEqual([[NODE2]]);
  });

  // Regression test (was a bug, now fixed): FilePeerSource.start (src/overlay/peers.ts, lines 72-90) reads the
  // file first and only then calls fs.watchFile, whose baseline is its own
  // first (asynchronous) stat. A change that lands between the read and that
  // stat — e.g. `podwire lab` rewriting peers.json as an agent starts — is
  // part of the baseline, so it is never reported: the agent keeps the stale
  // peer set until the file happens to change again. (Watching first, or
  // comparing the stat taken with the read, closes the window.) The test
  // makes the race deterministic by writing right after start()'s read.
  it('a change made right after start() read the file is reported', async () => {
    write({ peers: [NODE2] });
    const realRead = fs.readFileSync;
    vi.spyOn(fs, 'readFileSync').mockImplementationOnce(((...args: Parameters<typeof fs.readFileSync>) => {
      const text = realRead(...args);
      write({ peers: [NODE2, NODE3] }); // the racing writer
      return text;
    }) as typeof fs.readFileSync);
    const { seen } = watch();
    expect(seen).toEqual([[NODE2]]);
    expect(fs.readFileSync(file, 'utf8')).toContain('node3'); // the racing write happened
    await waitFor('the racing change to be reported', 1_000, () => seen.length > 1, 10);
    expect(seen.at(-1)).toEqual([NODE2, NODE3]);
  });
});

describe('PeerTable', () => {
  const peer = (name: string, nodeIp: string, podCidr: string): Peer => toPeer({ name, nodeIp, podCidr });
  const everything = peer('default', '172.28.0.20', '0.0.0.0/0');
  const wide = peer('wide', '172.28.0.21', '10.0.0.0/8');
  const node2 = peer('node2', '172.28.0.12', '10.244.2.0/24');
  const host = peer('host', '172.28.0.22', '10.244.2.7/32');

  it.each([
    ['10.244.2.7', 'host'],
    ['10.244.2.8', 'node2'],
    ['10.244.2.255', 'node2'],
    ['10.244.3.1', 'wide'],
    ['10.255.255.255', 'wide'],
    ['11.0.0.1', 'default'],
    ['255.255.255.255', 'default'],
  ])('longest prefix wins: %s → %s', (ip, name) => {
    const t = new PeerTable();
    t.replace([everything, node2, host, wide]);
    expect(t.lookup(parseIpv4(ip))?.name).toBe(name);
  });

  it('no covering prefix → undefined', () => {
    const t = new PeerTable();
    t.replace([wide, node2]);
    expect(t.lookup(parseIpv4('192.168.1.1'))).toBeUndefined();
  });

  it('finds peers by node IP, and replace() forgets the old set', () => {
    const t = new PeerTable();
    t.replace([wide, node2]);
    expect(t.byNodeIp(parseIpv4('172.28.0.12'))?.name).toBe('node2');
    expect(t.byNodeIp(parseIpv4('10.244.2.1'))).toBeUndefined();
    t.replace([host]);
    expect(t.byNodeIp(parseIpv4('172.28.0.12'))).toBeUndefined();
    expect(t.lookup(parseIpv4('10.244.2.8'))).toBeUndefined();
    expect(t.list().map((p) => p.name)).toEqual(['host']);
  });
});

describe('parseCidr / formatCidr', () => {
  it.each(['10.244.1.0/24', '0.0.0.0/0', '10.0.0.1/32', '172.16.0.0/12', '255.255.255.254/31'])(
    '%s round-trips',
    (s) => {
      expect(formatCidr(parseCidr(s))).toBe(s);
    },
  );

  it('parses into a network number and prefix length, ignoring surrounding blanks', () => {
    expect(parseCidr(' 10.244.1.0/24\n')).toEqual({ network: 0x0af40100, prefixLen: 24 });
  });

  it.each([
    ['10.244.1.1/24', /host bits set \(did you mean 10\.244\.1\.0\/24\?\)/],
    ['10.244.1.0/33', /prefix length above 32/],
    ['10.244.1.0', /not an IPv4 CIDR/],
    ['10.244.1.0/', /not an IPv4 CIDR/],
    ['10.244.1/24', /not an IPv4 CIDR/],
    ['', /not an IPv4 CIDR/],
  ])('%s → CidrError ERR_BAD_CIDR', (s, message) => {
    const err = errorOf(() => parseCidr(s));
    expect(err).toBeInstanceOf(CidrError);
    expect(err.code).toBe('ERR_BAD_CIDR');
    expect(err.message).toMatch(message);
  });

  it('an octet out of range is refused', () => {
    expect(() => parseCidr('10.300.0.0/16')).toThrow(/not an IPv4 address/);
  });

  it('cidrContains, cidrHost and cidrSize agree at the edges', () => {
    const c = parseCidr('10.244.1.0/24');
    expect(cidrContains(c, parseIpv4('10.244.1.0'))).toBe(true);
    expect(cidrContains(c, parseIpv4('10.244.1.255'))).toBe(true);
    expect(cidrContains(c, parseIpv4('10.244.2.0'))).toBe(false);
    expect(cidrContains(c, parseIpv4('10.244.0.255'))).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0'), parseIpv4('255.255.255.255'))).toBe(true);
    expect(cidrContains(parseCidr('255.255.255.255/32'), parseIpv4('255.255.255.255'))).toBe(true);
    expect(formatCidr({ network: cidrHost(c, 1), prefixLen: 32 })).toBe('10.244.1.1/32');
    expect(cidrSize(c)).toBe(256);
    expect(cidrSize(parseCidr('0.0.0.0/0'))).toBe(2 ** 32);
  });
});
