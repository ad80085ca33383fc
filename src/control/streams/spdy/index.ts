export {
  frame,
  frameLength,
  FrameReader,
  SPDY_VERSION,
  FRAME_HEADER_SIZE,
  MAX_FRAME_PAYLOAD,
  FLAG_FIN,
  FLAG_UNIDIRECTIONAL,
  RstStatus,
  GoAwayStatus,
  SettingsId,
  type SpdyFrame,
  type SettingsEntry,
} from './frames.js';
export {
  nameValueBlock,
  HeaderCompressor,
  HeaderDecompressor,
  type SpdyHeaders,
  type SpdyHeadersInit,
} from './header-block.js';
export { SPDY3_DICTIONARY, SPDY3_DICTIONARY_ADLER32 } from './dictionary.js';
export { SpdySession, SpdyStream, INITIAL_WINDOW, type SpdySessionOptions } from './session.js';
export { SpdyError, type SpdyErrorCode } from './errors.js';
