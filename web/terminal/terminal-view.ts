// The learner's terminal: xterm.js over the typed terminal protocol, with acknowledgements for
// flow control and reconnects (with backoff) to the same shell, whose screen the server replays.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { CloseCode, MAX_COLS, MAX_ROWS, parseServerMessage, type ClientMessage, type ServerMessage } from '../../shared/terminal-protocol.ts';
import { Acknowledger } from './acks.ts';

export type TerminalStatus = 'connecting' | 'connected' | 'reconnecting' | 'replaced' | 'ended';

export class TerminalView {
  readonly term: Terminal;
  private readonly fit = new FitAddon();
  private ws: WebSocket | undefined;
  private readonly acks: Acknowledger;
  private delay = 500;
  private disposed = false;
  private resizeObserver: ResizeObserver;
  private fitTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly host: HTMLElement, private readonly labId: string, private readonly onStatus: (s: TerminalStatus, detail?: string) => void) {
    this.term = new Terminal({
      cursorBlink: true,
      fontFamily: '"JetBrains Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace',
      fontSize: 14,
      scrollback: 5000,
      allowProposedApi: false,
      theme: { background: '#0f1720', foreground: '#e6edf3', cursor: '#7ee787', selectionBackground: '#264f78' },
    });
    this.term.loadAddon(this.fit);
    this.term.open(host);
    this.acks = new Acknowledger((chars) => this.send({ type: 'ack', chars }));
    this.term.onData((data) => this.send({ type: 'input', data }));
    this.term.onResize(({ cols, rows }) => this.send({ type: 'resize', cols, rows }));
    this.resizeObserver = new ResizeObserver(() => this.scheduleFit());
    this.resizeObserver.observe(host);
    this.safeFit();
    this.connect();
  }

  /** Type text into the shell as if the learner had ("run in terminal"). */
  run(text: string): void {
    const line = text.replace(/\r?\n/g, '\r');
    this.send({ type: 'input', data: line.endsWith('\r') ? line : line + '\r' });
    this.term.focus();
  }

  focus(): void {
    this.term.focus();
  }

  reconnectNow(): void {
    this.delay = 500;
    this.ws?.close();
    if (!this.ws || this.ws.readyState === WebSocket.CLOSED) this.connect();
  }

  dispose(): void {
    this.disposed = true;
    this.resizeObserver.disconnect();
    this.ws?.close();
    this.term.dispose();
  }

  private scheduleFit(): void {
    if (this.fitTimer) clearTimeout(this.fitTimer);
    this.fitTimer = setTimeout(() => this.safeFit(), 60);
  }

  /** Fill the host, within the sizes the server accepts (a very tall pane would otherwise get the socket closed). */
  private safeFit(): void {
    try {
      if (this.host.clientWidth <= 0 || this.host.clientHeight <= 0) return;
      const d = this.fit.proposeDimensions();
      if (!d || !Number.isFinite(d.cols) || !Number.isFinite(d.rows)) return;
      const cols = Math.max(2, Math.min(MAX_COLS, d.cols));
      const rows = Math.max(1, Math.min(MAX_ROWS, d.rows));
      if (cols !== this.term.cols || rows !== this.term.rows) this.term.resize(cols, rows);
    } catch {
      // not laid out yet
    }
  }

  private send(m: ClientMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  private connect(): void {
    if (this.disposed) return;
    this.onStatus(this.ws ? 'reconnecting' : 'connecting');
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const q = new URLSearchParams({ lab: this.labId, cols: String(this.term.cols), rows: String(this.term.rows) });
    const ws = new WebSocket(`${proto}://${location.host}/ws/terminal?${q}`);
    this.ws = ws;
    this.acks.reset();
    ws.onmessage = (e) => {
      let m: ServerMessage;
      try {
        m = parseServerMessage(String(e.data));
      } catch {
        return;
      }
      this.handle(m);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws || this.disposed) return;
      if (e.code === CloseCode.replaced) return this.onStatus('replaced', 'This terminal is open in another tab.');
      if (e.code === CloseCode.ended) return this.onStatus('ended', e.reason || 'The environment ended.');
      this.onStatus('reconnecting');
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(30_000, this.delay * 2);
    };
  }

  private handle(m: ServerMessage): void {
    switch (m.type) {
      case 'hello':
        this.delay = 500;
        this.host.dataset.pid = String(m.pid);
        this.host.dataset.session = m.session;
        this.host.dataset.sandbox = m.sandbox;
        this.term.reset();
        this.term.write(m.replay);
        this.safeFit();
        if (this.term.cols !== m.cols || this.term.rows !== m.rows) this.send({ type: 'resize', cols: this.term.cols, rows: this.term.rows });
        this.onStatus('connected');
        return;
      case 'output': {
        const n = m.data.length;
        this.term.write(m.data, () => this.acks.parsed(n));
        return;
      }
      case 'exit':
        this.term.write(`\r\n\x1b[2m[the shell ended (exit ${m.exitCode}); reconnecting starts a new one]\x1b[0m\r\n`);
        this.onStatus('ended', 'The shell ended.');
        return;
      case 'error':
        this.term.write(`\r\n\x1b[31m[${m.message}]\x1b[0m\r\n`);
        return;
      default: {
        const never: never = m;
        void never;
      }
    }
  }
}
