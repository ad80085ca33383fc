/**
 * Conntrack snapshots: the live entries of a table as plain JSON-safe data,
 * expiry and age relative to the moment taken, so an agent restarting on
 * another clock can restore its flows (Conntrack.snapshot / restore).
 * Validation is all-or-nothing: restore() checks every entry before it adds
 * any.
 */
import type { Conntrack } from './conntrack.js';
import { ConntrackError, isInt } from './conntrack-types.js';
import { CT_REPLIED, CT_STATE_NAMES, CT_UNREPLIED, TCP_CLOSE, TCP_NONE } from './tcp-state.js';
import { PROTO_TCP } from './types.js';

/** [src, sport, dst, dport] */
export type SnapshotTuple = [number, number, number, number];
export interface ConntrackSnapshotEntry {
  proto: number;
  orig: SnapshotTuple;
  reply: SnapshotTuple;
  state: number;
  track: number;
  owner: number;
  flags: number;
  remainingMs: number;
  ageMs: number;
  packets: [number, number];
  bytes: [number, number];
}
export interface ConntrackSnapshot {
  version: 1;
  entries: ConntrackSnapshotEntry[];
}

/** The entries of `ct` still live at `now`, in id order. */
export function takeSnapshot(ct: Conntrack, now: number): ConntrackSnapshot {
  const entries: ConntrackSnapshotEntry[] = [];
  ct.forEach((e) => {
    const remainingMs = ct.expiresAt(e) - now;
    if (remainingMs <= 0) return;
    entries.push({
      proto: ct.proto(e),
      state: ct.state(e),
      track: ct.track(e),
      owner: ct.owner(e),
      flags: ct.flags(e),
      orig: [ct.origSrc(e), ct.origSport(e), ct.origDst(e), ct.origDport(e)],
      reply: [ct.replySrc(e), ct.replySport(e), ct.replyDst(e), ct.replyDport(e)],
      remainingMs,
      ageMs: now - ct.createdAt(e),
      packets: [ct.packets(e, 0), ct.packets(e, 1)],
      bytes: [ct.bytes(e, 0), ct.bytes(e, 1)],
    });
  });
  return { version: 1, entries };
}

/** Throws ERR_BAD_SNAPSHOT unless `s` is a version 1 snapshot whose every entry is well formed. */
export function checkSnapshot(s: ConntrackSnapshot): void {
  if (s?.version !== 1 || !Array.isArray(s.entries))
    throw new ConntrackError('ERR_BAD_SNAPSHOT', 'not a version 1 conntrack snapshot');
  s.entries.forEach((x, i) => {
    if (!validEntry(x))
      throw new ConntrackError('ERR_BAD_SNAPSHOT', `snapshot entry ${i} is malformed: ${JSON.stringify(x)}`);
  });
}

function validEntry(x: ConntrackSnapshotEntry): boolean {
  const tuple = (t: unknown): boolean =>
    Array.isArray(t) &&
    t.length === 4 &&
    isInt(t[0], 0, 0xffffffff) &&
    isInt(t[1], 0, 0xffff) &&
    isInt(t[2], 0, 0xffffffff) &&
    isInt(t[3], 0, 0xffff);
  const pair = (p: unknown): boolean =>
    Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number' && v >= 0);
  if (!(x && typeof x === 'object' && isInt(x.proto, 0, 255) && tuple(x.orig) && tuple(x.reply))) return false;
  const tcpState = x.state >= TCP_NONE && x.state <= TCP_CLOSE;
  return (
    (x.proto === PROTO_TCP ? tcpState : x.state === CT_UNREPLIED || x.state === CT_REPLIED) &&
    isInt(x.state, 1, CT_STATE_NAMES.length - 1) &&
    isInt(x.track, 0, 255) &&
    isInt(x.owner, -0x8000_0000, 0x7fff_ffff) &&
    isInt(x.flags, 0, 255) &&
    typeof x.remainingMs === 'number' &&
    Number.isFinite(x.remainingMs) &&
    typeof x.ageMs === 'number' &&
    Number.isFinite(x.ageMs) &&
    pair(x.packets) &&
    pair(x.bytes)
  );
}
