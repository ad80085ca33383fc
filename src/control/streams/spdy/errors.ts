/** One error class for the SPDY layer, with a stable code (house style). */
export type SpdyErrorCode =
  | 'ERR_SPDY_TRUNCATED' // fewer bytes than the frame says
  | 'ERR_SPDY_VERSION' // a control frame of another SPDY version
  | 'ERR_SPDY_FRAME' // a frame whose length or fields are impossible for its type
  | 'ERR_SPDY_HEADERS' // a name/value block that does not parse, or fails to inflate
  | 'ERR_SPDY_VALUE' // a value to encode that does not fit its field
  | 'ERR_SPDY_STREAM' // a stream used against the protocol (data before SYN, a reused id)
  | 'ERR_SPDY_CLOSED'; // the session is gone

export class SpdyError extends Error {
  constructor(
    readonly code: SpdyErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SpdyError';
  }
}
