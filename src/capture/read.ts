import fs from 'node:fs';
import { createRequire } from 'node:module';

/** One captured frame, whatever file it came from. */
export interface CapturedPacket {
  /** seconds since the epoch (float: microsecond precision survives) */
  time: number;
  data: Buffer;
  originalLength: number;
  linktype: number;
  comment?: string;
  interfaceName?: string;
}

export class CaptureFileError extends Error {
  readonly code = 'ERR_CAPTURE_FILE';
}

/** Read a pcap or pcapng file (by its magic number) into packets. */
export async function readCapture(file: string): Promise<CapturedPacket[]> {
  const fd = fs.openSync(file, 'r');
  const magic = Buffer.alloc(4);
  fs.readSync(fd, magic, 0, 4, 0);
  fs.closeSync(fd);
  if (magic.readUInt32LE(0) === 0x0a0d0d0a) return readPcapng(fs.readFileSync(file));
  const m = magic.toString('hex');
  if (m === 'd4c3b2a1' || m === 'a1b2c3d4') return readPcap(file);
  if (m === '4d3cb2a1' || m === 'a1b23c4d')
    throw new CaptureFileError(
      `${file}: nanosecond pcap is not supported; write microsecond pcap (tcpdump's default) or pcapng`,
    );
  throw new CaptureFileError(`${file}: not a pcap or pcapng file (magic ${m})`);
}

/** Classic pcap through pcap-parser, the project's chosen reader. */
function readPcap(file: string): Promise<CapturedPacket[]> {
  const pcapParser = createRequire(import.meta.url)('pcap-parser') as {
    parse(input: string): NodeJS.EventEmitter;
  };
  return new Promise((resolve, reject) => {
    const out: CapturedPacket[] = [];
    let linktype = 1;
    const p = pcapParser.parse(file);
    p.on('globalHeader', (h: { linkLayerType: number }) => (linktype = h.linkLayerType));
    p.on(
      'packet',
      (pk: {
        header: { timestampSeconds: number; timestampMicroseconds: number; originalLength: number };
        data: Buffer;
      }) =>
        out.push({
          time: pk.header.timestampSeconds + pk.header.timestampMicroseconds / 1e6,
          data: Buffer.from(pk.data),
          originalLength: pk.header.originalLength,
          linktype,
        }),
    );
    p.on('error', (err: Error) => reject(new CaptureFileError(`${file}: ${err.message}`)));
    p.on('end', () => resolve(out));
  });
}

/** pcapng: Section Header, Interface Description, Enhanced and Simple Packet Blocks; others skipped. */
export function readPcapng(buf: Buffer): CapturedPacket[] {
  const out: CapturedPacket[] = [];
  let off = 0;
  let le = true;
  let ifaces: { linktype: number; tsPerSec: number; name?: string }[] = [];
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const options = (start: number, end: number): Map<number, Buffer[]> => {
    const m = new Map<number, Buffer[]>();
    let o = start;
    while (o + 4 <= end) {
      const code = u16(o);
      const len = u16(o + 2);
      if (code === 0) break;
      const v = buf.subarray(o + 4, Math.min(end, o + 4 + len));
      m.set(code, [...(m.get(code) ?? []), v]);
      o += 4 + ((len + 3) & ~3);
    }
    return m;
  };
  while (off + 12 <= buf.length) {
    const typeLE = buf.readUInt32LE(off);
    if (typeLE === 0x0a0d0d0a) {
      le = buf.readUInt32LE(off + 8) === 0x1a2b3c4d;
      ifaces = [];
    }
    const type = u32(off);
    const total = u32(off + 4);
    if (total < 12 || off + total > buf.length)
      throw new CaptureFileError(`pcapng block at byte ${off} is cut short or corrupt (length ${total})`);
    const body = off + 8;
    const end = off + total - 4;
    if (type === 1) {
      const opts = options(body + 8, end);
      const res = opts.get(9)?.[0]?.[0];
      const tsPerSec = res === undefined ? 1e6 : res & 0x80 ? 2 ** (res & 0x7f) : 10 ** res;
      ifaces.push({ linktype: u16(body), tsPerSec, name: opts.get(2)?.[0]?.toString() });
    } else if (type === 6) {
      const iface = ifaces[u32(body)] ?? { linktype: 1, tsPerSec: 1e6 };
      const ts = u32(body + 4) * 2 ** 32 + u32(body + 8);
      const capLen = u32(body + 12);
      const data = Buffer.from(buf.subarray(body + 20, body + 20 + capLen));
      const opts = options(body + 20 + ((capLen + 3) & ~3), end);
      out.push({
        time: ts / iface.tsPerSec,
        data,
        originalLength: u32(body + 16),
        linktype: iface.linktype,
        comment: opts.get(1)?.[0]?.toString(),
        interfaceName: iface.name,
      });
    } else if (type === 3) {
      const iface = ifaces[0] ?? { linktype: 1, tsPerSec: 1e6 };
      const orig = u32(body);
      out.push({
        time: 0,
        data: Buffer.from(buf.subarray(body + 4, end)).subarray(0, orig),
        originalLength: orig,
        linktype: iface.linktype,
      });
    }
    off += total;
  }
  return out;
}
