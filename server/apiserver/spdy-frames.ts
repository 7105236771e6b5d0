// SPDY/3 framing as kubectl before 1.30 speaks it for exec/attach (moby/spdystream, whose framer
// is Go's SPDY/3 framer): 8-byte frame heads, header blocks compressed with one zlib context per
// direction primed with the SPDY/3 dictionary and sync-flushed after every block. spdystream does
// no flow control (it never sends WINDOW_UPDATE and ignores ours) and sends stream headers without
// the HTTP pseudo-headers (`:method`, `:path`), so HTTP-over-SPDY libraries such as spdy-transport
// stall after 64 KiB or reject its streams outright; this codec keeps to what spdystream does.
import { constants as zlibConstants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';

export const SPDY_VERSION = 3;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** Control frame types (SPDY/3 section 2.6). */
export const TYPE_SYN_STREAM = 1;
export const TYPE_SYN_REPLY = 2;
export const TYPE_RST_STREAM = 3;
export const TYPE_SETTINGS = 4;
export const TYPE_PING = 6;
export const TYPE_GOAWAY = 7;
export const TYPE_HEADERS = 8;
export const TYPE_WINDOW_UPDATE = 9;

/** RST_STREAM status codes used here. */
export const RST_PROTOCOL_ERROR = 1;
export const RST_REFUSED_STREAM = 3;
export const RST_CANCEL = 5;

export const GOAWAY_OK = 0;
export const GOAWAY_PROTOCOL_ERROR = 1;

/** Header names are lower case; a name may carry several values (NUL-separated on the wire). */
export type SpdyHeaders = Map<string, string[]>;

export type SpdyFrame =
  | { type: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { type: 'syn_stream'; streamId: number; associatedId: number; fin: boolean; unidirectional: boolean; headers: SpdyHeaders }
  | { type: 'syn_reply'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'headers'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings' }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'window_update'; streamId: number; delta: number }
  | { type: 'unknown'; frameType: number };

export class SpdyProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpdyProtocolError';
  }
}

/** A frame cut from the byte stream, header block still compressed. */
export interface RawFrame {
  control: boolean;
  /** control frames: the version field; data frames: 0 */
  version: number;
  /** control frames: the frame type; data frames: 0 */
  frameType: number;
  /** data frames: the stream id */
  streamId: number;
  flags: number;
  payload: Buffer;
}

/** Largest frame accepted from a client (exec input arrives in small frames; 24-bit lengths allow 16 MiB). */
export const MAX_FRAME_LENGTH = 1 << 20;

/** Cuts a byte stream into frames; bytes may arrive split anywhere. */
export class FrameSplitter {
  private buffered: Buffer[] = [];
  private length = 0;

  constructor(private readonly maxFrameLength = MAX_FRAME_LENGTH) {}

  /** Adds bytes; returns the frames now complete, in order. */
  push(chunk: Buffer): RawFrame[] {
    if (chunk.length) {
      this.buffered.push(chunk);
      this.length += chunk.length;
    }
    const frames: RawFrame[] = [];
    while (this.length >= 8) {
      const head = this.peek(8);
      const word = head.readUInt32BE(0);
      const flags = head[4];
      const length = head.readUIntBE(5, 3);
      if (length > this.maxFrameLength) throw new SpdyProtocolError(`frame of ${length} bytes is over the limit of ${this.maxFrameLength}`);
      if (this.length < 8 + length) break;
      const bytes = this.take(8 + length);
      const control = (word & 0x80000000) !== 0;
      frames.push({
        control,
        version: control ? (word >>> 16) & 0x7fff : 0,
        frameType: control ? word & 0xffff : 0,
        streamId: control ? 0 : word & 0x7fffffff,
        flags,
        payload: bytes.subarray(8),
      });
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.buffered[0].length < n) this.buffered = [Buffer.concat(this.buffered)];
    return this.buffered[0].subarray(0, n);
  }

  private take(n: number): Buffer {
    if (this.buffered[0].length < n) this.buffered = [Buffer.concat(this.buffered)];
    const first = this.buffered[0];
    const out = first.subarray(0, n);
    if (first.length === n) this.buffered.shift();
    else this.buffered[0] = first.subarray(n);
    this.length -= n;
    return out;
  }
}

/**
 * The SPDY/3 header compression dictionary (draft 3, section 2.6.10.1), as Go's framer and
 * every SPDY/3 peer prime zlib with it.
 */
export const HEADER_DICTIONARY = Buffer.concat([
  ...['options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language', 'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag', 'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer', 'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning', 'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin'].map(lengthPrefixed),
  Buffer.from(
    '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
      '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
      '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
      'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
      'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
      'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.',
    'latin1',
  ),
]);

function lengthPrefixed(word: string): Buffer {
  const b = Buffer.alloc(4 + word.length);
  b.writeUInt32BE(word.length, 0);
  b.write(word, 4, 'latin1');
  return b;
}

/** Decompressed header blocks larger than this end the connection (a block is a few header lines). */
const MAX_HEADER_BLOCK = 64 * 1024;

/**
 * One direction's header compression context. Blocks must be encoded (or decoded) in the order
 * their frames go over the wire: zlib state carries from one block to the next.
 */
export class HeaderCompression {
  private inflate: Inflate | undefined;
  private deflate: Deflate | undefined;
  private chunks: Buffer[] = [];
  private failure: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  /** Decodes one received header block. */
  decode(block: Buffer): Promise<SpdyHeaders> {
    return this.serially(async () => {
      const z = (this.inflate ??= this.watch(createInflate({ dictionary: HEADER_DICTIONARY, maxOutputLength: MAX_HEADER_BLOCK })));
      return parseHeaderBlock(await this.run(z, block));
    });
  }

  /** Encodes one header block to send. */
  encode(headers: SpdyHeaders): Promise<Buffer> {
    return this.serially(async () => {
      const z = (this.deflate ??= this.watch(createDeflate({ dictionary: HEADER_DICTIONARY, level: zlibConstants.Z_BEST_COMPRESSION })));
      return this.run(z, serializeHeaderBlock(headers));
    });
  }

  close(): void {
    this.inflate?.destroy();
    this.deflate?.destroy();
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => {});
    return result;
  }

  private watch<T extends Inflate | Deflate>(z: T): T {
    z.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    z.on('error', (err: Error) => {
      this.failure = err;
      this.rejectRun?.(new SpdyProtocolError(`header block could not be (de)compressed: ${err.message}`));
    });
    return z;
  }

  private rejectRun: ((err: Error) => void) | undefined;

  // zlib emits everything a sync flush produces before the flush callback runs (ws's
  // permessage-deflate relies on the same ordering)
  private run(z: Inflate | Deflate, input: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      if (this.failure) return reject(new SpdyProtocolError(`header compression failed earlier: ${this.failure.message}`));
      this.chunks = [];
      this.rejectRun = reject;
      z.write(input);
      z.flush(zlibConstants.Z_SYNC_FLUSH, () => {
        if (this.failure) return;
        const out = Buffer.concat(this.chunks);
        this.chunks = [];
        resolve(out);
      });
    }).finally(() => (this.rejectRun = undefined));
  }
}

/** name/value pairs: a 32-bit count, then 32-bit-length-prefixed names and values. */
export function serializeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [u32(headers.size)];
  for (const [name, values] of headers) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(values.join('\0'), 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function parseHeaderBlock(block: Buffer): SpdyHeaders {
  const headers: SpdyHeaders = new Map();
  let at = 0;
  const need = (n: number, what: string): void => {
    if (at + n > block.length) throw new SpdyProtocolError(`header block ends inside ${what}`);
  };
  need(4, 'the pair count');
  const count = block.readUInt32BE(at);
  at += 4;
  for (let i = 0; i < count; i++) {
    need(4, `header ${i + 1}'s name length`);
    const nameLength = block.readUInt32BE(at);
    at += 4;
    need(nameLength, `header ${i + 1}'s name`);
    const name = block.toString('utf8', at, at + nameLength).toLowerCase();
    at += nameLength;
    need(4, `header ${name}'s value length`);
    const valueLength = block.readUInt32BE(at);
    at += 4;
    need(valueLength, `header ${name}'s value`);
    const values = block.toString('utf8', at, at + valueLength).split('\0');
    at += valueLength;
    headers.set(name, [...(headers.get(name) ?? []), ...values]);
  }
  return headers;
}

/** Decodes a cut frame; SYN_STREAM, SYN_REPLY and HEADERS go through `compression` (in wire order). */
export async function decodeFrame(raw: RawFrame, compression: HeaderCompression): Promise<SpdyFrame> {
  const p = raw.payload;
  if (!raw.control) {
    if (raw.streamId === 0) throw new SpdyProtocolError('DATA frame on stream 0');
    return { type: 'data', streamId: raw.streamId, fin: (raw.flags & FLAG_FIN) !== 0, data: p };
  }
  if (raw.version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${raw.version} (want ${SPDY_VERSION})`);
  const fin = (raw.flags & FLAG_FIN) !== 0;
  const need = (n: number, what: string): void => {
    if (p.length < n) throw new SpdyProtocolError(`${what} frame of ${p.length} bytes is too short`);
  };
  switch (raw.frameType) {
    case TYPE_SYN_STREAM: {
      need(10, 'SYN_STREAM');
      const headers = await compression.decode(p.subarray(10));
      return { type: 'syn_stream', streamId: p.readUInt32BE(0) & 0x7fffffff, associatedId: p.readUInt32BE(4) & 0x7fffffff, fin, unidirectional: (raw.flags & FLAG_UNIDIRECTIONAL) !== 0, headers };
    }
    case TYPE_SYN_REPLY: {
      need(4, 'SYN_REPLY');
      return { type: 'syn_reply', streamId: p.readUInt32BE(0) & 0x7fffffff, fin, headers: await compression.decode(p.subarray(4)) };
    }
    case TYPE_HEADERS: {
      need(4, 'HEADERS');
      return { type: 'headers', streamId: p.readUInt32BE(0) & 0x7fffffff, fin, headers: await compression.decode(p.subarray(4)) };
    }
    case TYPE_RST_STREAM:
      need(8, 'RST_STREAM');
      return { type: 'rst_stream', streamId: p.readUInt32BE(0) & 0x7fffffff, status: p.readUInt32BE(4) };
    case TYPE_SETTINGS:
      return { type: 'settings' };
    case TYPE_PING:
      need(4, 'PING');
      return { type: 'ping', id: p.readUInt32BE(0) };
    case TYPE_GOAWAY:
      need(4, 'GOAWAY');
      return { type: 'goaway', lastGoodStreamId: p.readUInt32BE(0) & 0x7fffffff, status: p.length >= 8 ? p.readUInt32BE(4) : GOAWAY_OK };
    case TYPE_WINDOW_UPDATE:
      need(8, 'WINDOW_UPDATE');
      return { type: 'window_update', streamId: p.readUInt32BE(0) & 0x7fffffff, delta: p.readUInt32BE(4) & 0x7fffffff };
    default:
      return { type: 'unknown', frameType: raw.frameType };
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

function controlFrame(frameType: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE((0x80000000 | (SPDY_VERSION << 16) | frameType) >>> 0, 0);
  head.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}

/** Largest DATA payload sent in one frame. */
export const MAX_DATA_CHUNK = 32 * 1024;

/** DATA frames for `data` (split to MAX_DATA_CHUNK), FIN on the last when `fin`; one empty frame carries a bare FIN. */
export function dataFrames(streamId: number, data: Buffer, fin = false): Buffer {
  const frames: Buffer[] = [];
  let at = 0;
  do {
    const chunk = data.subarray(at, at + MAX_DATA_CHUNK);
    at += chunk.length;
    const last = at >= data.length;
    const head = Buffer.alloc(8);
    head.writeUInt32BE(streamId & 0x7fffffff, 0);
    head.writeUInt32BE((((fin && last ? FLAG_FIN : 0) << 24) | chunk.length) >>> 0, 4);
    frames.push(head, chunk);
  } while (at < data.length);
  return Buffer.concat(frames);
}

export function synStreamFrame(streamId: number, block: Buffer, fin = false): Buffer {
  const p = Buffer.alloc(10);
  p.writeUInt32BE(streamId & 0x7fffffff, 0);
  return controlFrame(TYPE_SYN_STREAM, fin ? FLAG_FIN : 0, Buffer.concat([p, block]));
}

export function synReplyFrame(streamId: number, block: Buffer, fin = false): Buffer {
  return controlFrame(TYPE_SYN_REPLY, fin ? FLAG_FIN : 0, Buffer.concat([u32(streamId & 0x7fffffff), block]));
}

export function rstStreamFrame(streamId: number, status: number): Buffer {
  return controlFrame(TYPE_RST_STREAM, 0, Buffer.concat([u32(streamId & 0x7fffffff), u32(status)]));
}

export function pingFrame(id: number): Buffer {
  return controlFrame(TYPE_PING, 0, u32(id));
}

export function goAwayFrame(lastGoodStreamId: number, status = GOAWAY_OK): Buffer {
  return controlFrame(TYPE_GOAWAY, 0, Buffer.concat([u32(lastGoodStreamId & 0x7fffffff), u32(status)]));
}
