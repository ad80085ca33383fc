export { PacketSocket, type PacketSocketOptions } from './packet-socket.js';
export { RxBatch, TxBatch, TX_FROM_SCRATCH, TX_FROM_PAYLOAD, PACKET_HOST, PACKET_OUTGOING } from './batch.js';
export { NativeError, type NativeErrorCode } from './errors.js';
export {
  bpf,
  compileFilter,
  underlayFilter,
  underlayServicesFilter,
  exceptInterfacesFilter,
  DROP_ALL_FILTER,
  assemble,
  type BpfInsn,
  type AsmLine,
  type UnderlayPorts,
} from './bpf.js';
export { inRange, tcpUdpDstPort } from './bpf.js';
