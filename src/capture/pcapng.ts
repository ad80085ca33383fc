/**
 * pcapng writer (draft-ietf-opsawg-pcapng): a Section Header Block, one
 * Interface Description Block per capture point, and an Enhanced Packet
 * Block per frame — with an opt_comment (the drop reason, for frames the
 * agent dropped) and epb_flags (direction). Little-endian, as the byte-order
 * magic says; Wireshark and tshark read it. No dependencies, a few lines.
 */
export const LINKTYPE_ETHERNET = 1;
const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;
const OPT_END = 0;
const OPT_COMMENT = 1;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const EPB_FLAGS = 2;

export const DIRECTION_INBOUND = 1;
export const DIRECTION_OUTBOUND = 2;

const pad4 = (n: number) => (n + 3) & ~3;

function options(opts: { code: number; value: Buffer }[]): Buffer {
  if (!opts.length) return Buffer.alloc(0);
  const size = opts.reduce((s, o) => s + 4 + pad4(o.value.length), 0) + 4;
  const out = Buffer.alloc(size);
  let off = 0;
  for (const o of opts) {
    out.writeUInt16LE(o.code, off);
    out.writeUInt16LE(o.value.length, off + 2);
    o.value.copy(out, off + 4);
    off += 4 + pad4(o.value.length);
  }
  out.writeUInt16LE(OPT_END, off);
  return out;
}

function block(type: number, body: Buffer): Buffer {
  const total = 12 + body.length;
  const out = Buffer.alloc(total);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(total, 4);
  body.copy(out, 8);
  out.writeUInt32LE(total, total - 4);
  return out;
}

export function sectionHeader(appName = 'podwire'): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(0x1a2b3c4d, 0); // byte-order magic
  body.writeUInt16LE(1, 4);
  body.writeUInt16LE(0, 6);
  body.writeBigInt64LE(-1n, 8); // section length unknown (streamed)
  const opts = options([{ code: 4 /* shb_userappl */, value: Buffer.from(appName) }]);
  return block(SHB, Buffer.concat([body, opts]));
}

export function interfaceDescription(name: string, description = '', snaplen = 262144): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16LE(LINKTYPE_ETHERNET, 0);
  body.writeUInt32LE(snaplen, 4);
  const opts = options([
    { code: IF_NAME, value: Buffer.from(name) },
    ...(description ? [{ code: IF_DESCRIPTION, value: Buffer.from(description) }] : []),
  ]);
  return block(IDB, Buffer.concat([body, opts]));
}

export interface PacketMeta {
  interfaceId?: number;
  /** microseconds since the Unix epoch (the default if_tsresol) */
  timestampUs: bigint;
  originalLength?: number;
  comment?: string;
  direction?: number;
}

export function enhancedPacket(data: Buffer, meta: PacketMeta): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt32LE(meta.interfaceId ?? 0, 0);
  head.writeUInt32LE(Number(meta.timestampUs >> 32n), 4);
  head.writeUInt32LE(Number(meta.timestampUs & 0xffffffffn), 8);
  head.writeUInt32LE(data.length, 12);
  head.writeUInt32LE(meta.originalLength ?? data.length, 16);
  const padded = Buffer.alloc(pad4(data.length));
  data.copy(padded);
  const opts: { code: number; value: Buffer }[] = [];
  if (meta.comment) opts.push({ code: OPT_COMMENT, value: Buffer.from(meta.comment) });
  if (meta.direction) {
    const f = Buffer.alloc(4);
    f.writeUInt32LE(meta.direction & 3, 0);
    opts.push({ code: EPB_FLAGS, value: f });
  }
  return block(EPB, Buffer.concat([head, padded, options(opts)]));
}

/** Wall-clock microseconds from one monotonic clock (timeOrigin + now never steps back). */
export function nowUs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}
