// The terminal's wire protocol, defined once for the browser and the server. Every frame is one
// JSON text message. The server validates what the browser sends with `parseClientMessage`;
// the browser trusts the server's frames only as far as their shape (output is still untrusted
// bytes that go straight into xterm.js, never into the DOM).
//
// Flow control (after xterm.js's flow-control guide): the server counts the characters of
// `output` it has sent and the browser acknowledges, with `ack`, the characters xterm.js has
// finished parsing (the write callback). When the unacknowledged count passes FLOW_HIGH the
// server pauses the pty; when acks bring it under FLOW_LOW it resumes. Both sides import these
// numbers so they cannot drift apart.

/** Pause the shell once this many characters are in flight to the browser. */
export const FLOW_HIGH = 128 * 1024;
/** Resume once the browser has caught up to this many unacknowledged characters. */
export const FLOW_LOW = 16 * 1024;
/** The browser acknowledges after parsing at least this many characters (and when idle). */
export const FLOW_ACK_EVERY = 8 * 1024;
/** Largest frame the server accepts from the browser: keystrokes and pastes, not uploads. */
export const MAX_CLIENT_FRAME = 64 * 1024;
/** Bounds on a terminal's size, so a resize can't ask the emulator for a giant grid. */
export const MAX_COLS = 500;
export const MAX_ROWS = 200;

export type ClientMessage =
  /** keystrokes or pasted text, as xterm.js's onData gives them */
  | { type: 'input'; data: string }
  | { type: 'resize'; cols: number; rows: number }
  /** characters of output xterm.js has parsed since the last ack */
  | { type: 'ack'; chars: number };

export type ServerMessage =
  /** first frame after attaching: the session and the screen as it is (serialized, replayed before any output) */
  | { type: 'hello'; session: string; pid: number; cols: number; rows: number; replay: string; sandbox: SandboxMode }
  | { type: 'output'; data: string }
  /** the shell ended; the session is gone and a new one starts on the next attach */
  | { type: 'exit'; exitCode: number; signal?: number }
  | { type: 'error'; message: string };

/** How the shell is contained: `bwrap` (its own view of the filesystem) or `none` (a plain shell). */
export type SandboxMode = 'bwrap' | 'none';

/** WebSocket close codes the terminal uses besides the standard ones. */
export const CloseCode = {
  /** protocol violation (bad frame): 1008 policy violation */
  policy: 1008,
  /** frame larger than MAX_CLIENT_FRAME */
  tooBig: 1009,
  /** no shell could be started right now (1013 try again later); the browser retries with backoff */
  tryAgain: 1013,
  /** this session was taken over by a newer connection (another tab) */
  replaced: 4001,
  /** the learner's environment expired or was reset */
  ended: 4002,
} as const;

export class ProtocolError extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function intIn(v: unknown, min: number, max: number, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ProtocolError(`${field}: must be an integer from ${min} to ${max}`);
  }
  return v;
}

/** Parse and validate one frame from the browser; throws ProtocolError naming the bad field. */
export function parseClientMessage(text: string): ClientMessage {
  if (text.length > MAX_CLIENT_FRAME) throw new ProtocolError(`frame: larger than ${MAX_CLIENT_FRAME} characters`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ProtocolError('frame: not JSON');
  }
  if (!isObject(raw)) throw new ProtocolError('frame: must be an object');
  const type = raw.type;
  switch (type) {
    case 'input':
      if (typeof raw.data !== 'string') throw new ProtocolError('input.data: must be a string');
      return { type, data: raw.data };
    case 'resize':
      return { type, cols: intIn(raw.cols, 2, MAX_COLS, 'resize.cols'), rows: intIn(raw.rows, 1, MAX_ROWS, 'resize.rows') };
    case 'ack':
      return { type, chars: intIn(raw.chars, 0, Number.MAX_SAFE_INTEGER, 'ack.chars') };
    default:
      throw new ProtocolError(`type: must be one of input, resize, ack (got ${JSON.stringify(type)})`);
  }
}

/** Parse one frame from the server (the browser side); throws ProtocolError on an unknown shape. */
export function parseServerMessage(text: string): ServerMessage {
  const raw: unknown = JSON.parse(text);
  if (!isObject(raw) || typeof raw.type !== 'string') throw new ProtocolError('frame: must be an object with a type');
  switch (raw.type) {
    case 'hello':
    case 'output':
    case 'exit':
    case 'error':
      return raw as unknown as ServerMessage;
    default:
      throw new ProtocolError(`type: unknown server message ${JSON.stringify(raw.type)}`);
  }
}
