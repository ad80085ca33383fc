/** Events: client-side, shared with the agents' kubelet (src/control/client/events.ts). */
export { eventObject, recordEvent, EventRecorder, type EventType } from '../client/events.js';
