export {
  OuterTemplate,
  OUTER_HEADERS_SIZE,
  writeEncapVnetHdr,
  planTcpSegments,
  patchTcpSegment,
  type TcpSegmentPlan,
} from './vxlan-encap.js';
export { type Peer, type PeerSource, type PeerSpec, FilePeerSource, parsePeerSpecs, toPeer } from './peers.js';
export { vtepMacFor, podMacFor } from './macs.js';
