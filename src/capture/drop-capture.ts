import type { PipelineTracer } from '../dataplane/index.js';
import { PORT_PODS, dropReasonName, describeDropReason } from '../dataplane/index.js';
import { sectionHeader, interfaceDescription, enhancedPacket, nowUs, DIRECTION_INBOUND } from './pcapng.js';

/**
 * A capture point inside the agent's pipeline that records what it dropped:
 * each frame as it arrived (VXLAN frames with their outer headers), with the
 * drop reason (and what it is about, e.g. the Service, when the stage says)
 * as the pcapng packet comment. Two interfaces: frames from pods
 * (cbr0) and frames from the underlay (eth0).
 */
export class DropCapture implements PipelineTracer {
  /** frames not written because the reader was too slow */
  lost = 0;
  written = 0;

  constructor(
    private readonly node: string,
    private readonly write: (chunk: Buffer) => boolean,
    private readonly maxPending: () => number,
    private readonly pendingLimitBytes = 8 << 20,
  ) {
    this.write(
      Buffer.concat([
        sectionHeader(),
        interfaceDescription(`${node}/pipeline:from-pods`, `frames from pods that podwire's agent on ${node} dropped`),
        interfaceDescription(
          `${node}/pipeline:from-underlay`,
          `underlay frames that podwire's agent on ${node} dropped`,
        ),
      ]),
    );
  }

  dropped(reason: number, port: number, buf: Buffer, off: number, len: number, detail?: string): void {
    if (this.maxPending() > this.pendingLimitBytes) {
      this.lost++;
      return;
    }
    const name = dropReasonName(reason);
    const frame = Buffer.from(buf.subarray(off, off + Math.max(0, len))); // valid only during this call: copy
    this.write(
      enhancedPacket(frame, {
        interfaceId: port === PORT_PODS ? 0 : 1,
        timestampUs: nowUs(),
        comment: `podwire drop: ${name}${detail ? ` (${detail})` : ''} — ${describeDropReason(name)} (node ${this.node})`,
        direction: DIRECTION_INBOUND,
      }),
    );
    this.written++;
  }
}
