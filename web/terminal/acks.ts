// The browser half of terminal flow control (the server half is server/terminal/flow-control.ts).
// xterm.js calls back when it has parsed a write; we add those characters up and acknowledge
// every FLOW_ACK_EVERY of them, and whatever is left once output goes quiet, so the server's
// count of unacknowledged characters always comes back down and a paused shell resumes.
import { FLOW_ACK_EVERY } from '../../shared/terminal-protocol.ts';

export class Acknowledger {
  private pending = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly send: (chars: number) => void) {}

  parsed(chars: number): void {
    this.pending += chars;
    if (this.pending >= FLOW_ACK_EVERY) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), 25);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending > 0) this.send(this.pending);
    this.pending = 0;
  }

  reset(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = 0;
  }
}
