export { sectionHeader, interfaceDescription, enhancedPacket, nowUs, LINKTYPE_ETHERNET, DIRECTION_INBOUND, DIRECTION_OUTBOUND, type PacketMeta } from './pcapng.js';
export { DropCapture } from './drop-capture.js';
