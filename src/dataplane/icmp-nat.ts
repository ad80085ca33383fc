import { IPPROTO_TCP, IPPROTO_UDP, internetChecksum, updateChecksum16, updateChecksum32 } from '../packet/index.js';
import type { LbState } from './lb-state.js';

/**
 * An ICMP error about a translated flow (a backend's port unreachable, a
 * router's frag-needed or time-exceeded, or one the agent itself built
 * from the rewritten packet) is translated too, as conntrack's RELATED
 * handling does: the quoted header gets the addresses its receiver sent,
 * the outer header the addresses the receiver knows. The ICMP checksum is
 * recomputed (the message is at most 576 bytes). True if it was rewritten.
 */
export function unNatIcmpError(lb: LbState, buf: Buffer, ipOff: number, len: number): boolean {
  if (len < 28 || buf[ipOff + 9] !== 1) return false;
  const ihl = (buf[ipOff] & 0x0f) << 2;
  const icmp = ipOff + ihl;
  const type = buf[icmp];
  if (type !== 3 && type !== 11 && type !== 12) return false;
  const emb = icmp + 8;
  const end = ipOff + Math.min(len, buf.readUInt16BE(ipOff + 2));
  if (emb + 20 > end) return false;
  const eIhl = (buf[emb] & 0x0f) << 2;
  const proto = buf[emb + 9];
  if ((proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) || eIhl < 20 || emb + eIhl + 8 > end) return false;
  const el4 = emb + eIhl;
  const es = buf.readUInt32BE(emb + 12);
  const ed = buf.readUInt32BE(emb + 16);
  const esp = buf.readUInt16BE(el4);
  const edp = buf.readUInt16BE(el4 + 2);
  const ct = lb.conntrack;
  // The quoted packet's reply tuple names the entry; its direction says which way it was sent.
  const e = ct.lookup(proto, ed, edp, es, esp);
  if (e < 0) return false;
  const ent = e >> 1;
  const quotedWasOriginal = (e & 1) === 1;
  // What the quoted packet looked like to the host that gets this error
  const qs = quotedWasOriginal ? ct.origSrc(ent) : ct.replySrc(ent);
  const qsp = quotedWasOriginal ? ct.origSport(ent) : ct.replySport(ent);
  const qd = quotedWasOriginal ? ct.origDst(ent) : ct.replyDst(ent);
  const qdp = quotedWasOriginal ? ct.origDport(ent) : ct.replyDport(ent);
  // Quoted header: addresses (header checksum kept right) and ports (a UDP checksum kept right; a TCP one is past the 8 quoted bytes or left alone)
  setAddr(buf, emb, 12, qs);
  setAddr(buf, emb, 16, qd);
  if (proto === IPPROTO_UDP && el4 + 8 <= end && buf.readUInt16BE(el4 + 6) !== 0) {
    let c = buf.readUInt16BE(el4 + 6);
    c = updateChecksum32(c, es, qs);
    c = updateChecksum32(c, ed, qd);
    c = updateChecksum16(c, esp, qsp);
    c = updateChecksum16(c, edp, qdp);
    buf.writeUInt16BE(c === 0 ? 0xffff : c, el4 + 6);
  }
  buf.writeUInt16BE(qsp, el4);
  buf.writeUInt16BE(qdp, el4 + 2);
  // Outer header: to the quoted packet's sender; from what it sent to, if the error came from there
  const outerSrc = buf.readUInt32BE(ipOff + 12);
  if (outerSrc === ed) setAddr(buf, ipOff, 12, qd);
  setAddr(buf, ipOff, 16, qs);
  buf.writeUInt16BE(0, icmp + 2);
  buf.writeUInt16BE(internetChecksum(buf, icmp, end - icmp), icmp + 2);
  return true;
}

export function setAddr(buf: Buffer, ipOff: number, field: number, addr: number): void {
  const old = buf.readUInt32BE(ipOff + field);
  if (old === addr) return;
  buf.writeUInt32BE(addr >>> 0, ipOff + field);
  buf.writeUInt16BE(updateChecksum32(buf.readUInt16BE(ipOff + 10), old, addr), ipOff + 10);
}
