import type { PipelineTracer } from '../dataplane/index.js';
import { PORT_PODS } from '../dataplane/index.js';
import { frameMatches, type CaptureFilter } from './filter.js';
import { sectionHeader, interfaceDescription, enhancedPacket, nowUs, DIRECTION_INBOUND } from './pcapng.js';

/** Which side of the rewrite to record. */
export type NatSide = 'pre' | 'post' | 'both';

export const NAT_COMMENT_PRE = 'pre-nat';
export const NAT_COMMENT_POST = 'post-nat';

/**
 * The capture point around the Service stage's NAT: every translated packet
 * (DNAT to a backend, reverse NAT of its replies, SNAT, masquerade) as it
 * was and as it leaves the rewrite — the ClusterIP before, the pod after.
 * The pcapng packet comment says which (`pre-nat`, `post-nat`); the
 * interface says where the packet came from (pods or the underlay; for
 * VXLAN, the inner frame). A filter keeps a pair when either side matches,
 * so `--host <ClusterIP>` shows the packets after DNAT too.
 */
export class NatCapture implements PipelineTracer {
  /** frames not written because the reader was too slow */
  lost = 0;
  written = 0;
  private pre: Buffer | null = null;

  constructor(
    node: string,
    private readonly side: NatSide,
    private readonly filter: CaptureFilter,
    private readonly write: (chunk: Buffer) => boolean,
    private readonly pending: () => number,
    private readonly pendingLimitBytes = 8 << 20,
  ) {
    this.write(
      Buffer.concat([
        sectionHeader(),
        interfaceDescription(
          `${node}/nat:from-pods`,
          `packets from pods that podwire's agent on ${node} translated (Services, masquerade)`,
        ),
        interfaceDescription(
          `${node}/nat:from-underlay`,
          `packets from the underlay (NodePort, LoadBalancer, replies; VXLAN: the inner frame) that podwire's agent on ${node} translated`,
        ),
      ]),
    );
  }

  dropped(): void {}

  natPoint(after: boolean, port: number, buf: Buffer, off: number, len: number): void {
    const frame = buf.subarray(off, off + Math.max(0, len));
    if (!after) {
      this.pre = Buffer.from(frame); // valid only during this call: copy
      return;
    }
    const pre = this.pre;
    this.pre = null;
    if (pre === null) return;
    if (!frameMatches(pre, 0, pre.length, this.filter) && !frameMatches(frame, 0, frame.length, this.filter)) return;
    if (this.pending() > this.pendingLimitBytes) {
      this.lost += this.side === 'both' ? 2 : 1;
      return;
    }
    const interfaceId = port === PORT_PODS ? 0 : 1;
    const timestampUs = nowUs();
    const out: Buffer[] = [];
    if (this.side !== 'post')
      out.push(
        enhancedPacket(pre, { interfaceId, timestampUs, comment: NAT_COMMENT_PRE, direction: DIRECTION_INBOUND }),
      );
    if (this.side !== 'pre')
      out.push(
        enhancedPacket(frame, { interfaceId, timestampUs, comment: NAT_COMMENT_POST, direction: DIRECTION_INBOUND }),
      );
    this.write(Buffer.concat(out));
    this.written += out.length;
  }
}
