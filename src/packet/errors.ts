// Errors for the packet folder.
//
// Only config-time and codec code throws (parsing "10.0.0.1" out of a
// manifest, encoding a header into a buffer that is too small). Views never
// throw: on the hot path a malformed packet is a drop reason, not an
// exception, so nothing here is ever raised per packet.

export type PacketErrorCode =
  | 'ERR_BAD_MAC' // parseMac got something that is not aa:bb:cc:dd:ee:ff
  | 'ERR_BAD_IPV4' // parseIpv4 got something that is not a dotted quad
  | 'ERR_BUFFER_TOO_SMALL' // encode() was handed a buffer without room
  | 'ERR_TRUNCATED' // decode() was handed fewer bytes than the header needs
  | 'ERR_MALFORMED' // decode() found a header that contradicts itself
  | 'ERR_BAD_VALUE'; // encode() got a field that does not fit its bits

export class PacketError extends Error {
  override readonly name = 'PacketError';
  readonly code: PacketErrorCode;

  constructor(code: PacketErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
