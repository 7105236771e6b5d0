// The server half of terminal flow control. The browser half is web/terminal/acks.ts; they
// depend on each other through FLOW_HIGH / FLOW_LOW / FLOW_ACK_EVERY in
// shared/terminal-protocol.ts: the server pauses the shell when more than HIGH characters are
// unacknowledged, and the browser must acknowledge at least every ACK_EVERY characters (and
// when it goes idle), otherwise a paused shell would never resume.
//
// A second brake covers a browser that acknowledges but whose socket is slow: the socket's own
// send buffer (ws.bufferedAmount) above a byte bound also pauses, and is re-checked on a timer
// since `ws` has no drain event.
import { FLOW_HIGH, FLOW_LOW } from '../../shared/terminal-protocol.ts';

export interface FlowLimits {
  high: number;
  low: number;
  /** pause while the socket holds more than this many bytes not yet written to the network */
  maxBuffered: number;
}

export const defaultFlowLimits: FlowLimits = { high: FLOW_HIGH, low: FLOW_LOW, maxBuffered: 256 * 1024 };

export type FlowDecision = 'pause' | 'resume' | 'none';

/** Tracks characters in flight to one browser and says when the shell must pause or may resume. */
export class OutputFlow {
  private inFlight = 0;
  private paused = false;

  constructor(private readonly limits: FlowLimits = defaultFlowLimits) {}

  get unacknowledged(): number {
    return this.inFlight;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Output of `chars` characters was sent; `buffered` is the socket's bufferedAmount after sending. */
  sent(chars: number, buffered: number): FlowDecision {
    this.inFlight += chars;
    return this.decide(buffered);
  }

  /** The browser parsed `chars` more characters. Acks beyond what was sent are clamped, not trusted. */
  acknowledged(chars: number, buffered: number): FlowDecision {
    this.inFlight = Math.max(0, this.inFlight - chars);
    return this.decide(buffered);
  }

  /** Re-check after time passed (the socket may have drained). */
  poll(buffered: number): FlowDecision {
    return this.decide(buffered);
  }

  /** A fresh connection starts with nothing in flight. */
  reset(): FlowDecision {
    this.inFlight = 0;
    if (this.paused) {
      this.paused = false;
      return 'resume';
    }
    return 'none';
  }

  private decide(buffered: number): FlowDecision {
    if (!this.paused && (this.inFlight > this.limits.high || buffered > this.limits.maxBuffered)) {
      this.paused = true;
      return 'pause';
    }
    if (this.paused && this.inFlight <= this.limits.low && buffered <= this.limits.maxBuffered / 2) {
      this.paused = false;
      return 'resume';
    }
    return 'none';
  }
}
