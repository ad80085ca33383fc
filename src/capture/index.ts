export {
  sectionHeader,
  interfaceDescription,
  enhancedPacket,
  nowUs,
  LINKTYPE_ETHERNET,
  DIRECTION_INBOUND,
  DIRECTION_OUTBOUND,
  type PacketMeta,
} from './pcapng.js';
export { DropCapture } from './drop-capture.js';
export { pcapGlobalHeader, pcapRecord } from './pcap.js';
export { frameMatches, parseCaptureFilter, type CaptureFilter } from './filter.js';
export { captureInterface, type IfaceCaptureOptions } from './iface-capture.js';
export { readCapture, readPcapng, CaptureFileError, type CapturedPacket } from './read.js';
export { NatCapture, NAT_COMMENT_PRE, NAT_COMMENT_POST, type NatSide } from './nat-capture.js';
