/** Classic libpcap file format (what tcpdump -w writes): a 24-byte global header, then a 16-byte record header per frame. */
export function pcapGlobalHeader(snaplen = 262144, linktype = 1): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0); // microsecond timestamps, little-endian
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeInt32LE(0, 8);
  h.writeUInt32LE(0, 12);
  h.writeUInt32LE(snaplen, 16);
  h.writeUInt32LE(linktype, 20);
  return h;
}

export function pcapRecord(data: Buffer, timestampUs: bigint, originalLength = data.length): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(Number(timestampUs / 1_000_000n), 0);
  h.writeUInt32LE(Number(timestampUs % 1_000_000n), 4);
  h.writeUInt32LE(data.length, 8);
  h.writeUInt32LE(originalLength, 12);
  return Buffer.concat([h, data]);
}
