// The server end of a SPDY/3 connection as spdystream (client-go's SPDY transport) uses it: the
// client opens every stream, the server answers each with a SYN_REPLY before sending data on it,
// pings are echoed, and no flow control is done in either direction. Frames are handled strictly
// in wire order (a stream's data never overtakes its SYN_STREAM), and frames are written in the
// order they were queued (a reply's compressed header block is never overtaken by data).
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  dataFrames,
  decodeFrame,
  FrameSplitter,
  goAwayFrame,
  GOAWAY_OK,
  GOAWAY_PROTOCOL_ERROR,
  HeaderCompression,
  pingFrame,
  rstStreamFrame,
  RST_PROTOCOL_ERROR,
  SpdyProtocolError,
  synReplyFrame,
  type SpdyFrame,
  type SpdyHeaders,
} from './spdy-frames.ts';

/** One client-opened stream. */
export class SpdyStream extends EventEmitter<{ data: [Buffer]; end: []; reset: [] }> {
  /** the client said FIN (or reset the stream): no more data comes */
  remoteClosed = false;
  /** we sent FIN (or reset): no more data goes */
  localClosed = false;
  replied = false;

  constructor(
    private readonly connection: SpdyConnection,
    readonly id: number,
    readonly headers: SpdyHeaders,
  ) {
    super();
  }

  /** The first value of a header, or undefined. */
  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  /** Accept the stream (spdystream waits for this before it lets the client write). */
  reply(): void {
    if (this.replied || this.localClosed) return;
    this.replied = true;
    this.connection.sendReply(this.id);
  }

  /** Send data; false when the socket's buffer is over its high-water mark. */
  write(data: Buffer): boolean {
    if (this.localClosed || data.length === 0) return this.connection.writable;
    return this.connection.sendData(this.id, data, false);
  }

  /** Send FIN, optionally with last data. */
  end(data: Buffer = Buffer.alloc(0)): void {
    if (this.localClosed) return;
    this.localClosed = true;
    this.connection.sendData(this.id, data, true);
  }

  /** Refuse or abort the stream. */
  reset(status: number): void {
    if (this.localClosed && this.remoteClosed) return;
    this.localClosed = true;
    this.connection.sendReset(this.id, status);
    this.closeRemote('reset');
  }

  /** @internal the client's side ended */
  closeRemote(how: 'end' | 'reset'): void {
    if (this.remoteClosed) return;
    this.remoteClosed = true;
    this.emit(how);
  }
}

export interface SpdyConnectionEvents {
  /** a stream the client opened; answer with reply() or reset() */
  stream: [SpdyStream];
  /** the socket is gone (client closed it, or close() finished) */
  close: [];
  /** a protocol or socket error; the connection closes after it */
  error: [Error];
  /** the socket drained below its high-water mark */
  drain: [];
}

export class SpdyConnection extends EventEmitter<SpdyConnectionEvents> {
  private readonly splitter = new FrameSplitter();
  private readonly inbound = new HeaderCompression();
  private readonly outbound = new HeaderCompression();
  private readonly streams = new Map<number, SpdyStream>();
  private lastStreamId = 0;
  /** frames cut but not yet handled (header blocks decompress asynchronously) */
  private handling: Promise<void> = Promise.resolve();
  /** writes waiting behind a header block being compressed */
  private queued = 0;
  private writes: Promise<void> = Promise.resolve();
  private goneAway = false;
  private closed = false;

  constructor(
    readonly socket: Duplex,
    head: Buffer = Buffer.alloc(0),
  ) {
    super();
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => this.emit('drain'));
    socket.on('error', (err: Error) => this.fail(err));
    socket.on('close', () => this.finish());
    socket.on('end', () => this.finish());
    if (head.length) this.receive(head);
  }

  get writable(): boolean {
    return !this.closed && !this.socket.destroyed && this.socket.writableLength < this.socket.writableHighWaterMark;
  }

  /** Bytes queued for the socket. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  /** Say GOAWAY and close the socket once what was queued has been written. */
  goAway(status = GOAWAY_OK): void {
    if (this.goneAway || this.closed) return;
    this.goneAway = true;
    this.enqueue(goAwayFrame(this.lastStreamId, status));
  }

  /** GOAWAY, then end our side; the socket is destroyed if the client has not closed it within `graceMs`. */
  close(graceMs = 5000): void {
    if (this.closed) return;
    this.goAway();
    void this.writes.then(() => {
      if (this.closed) return;
      this.socket.end();
      setTimeout(() => this.socket.destroy(), graceMs).unref();
    });
  }

  /** Drop the connection now. */
  destroy(): void {
    this.socket.destroy();
    this.finish();
  }

  /** @internal */
  sendReply(streamId: number): void {
    this.queued++;
    const block = this.outbound.encode(new Map());
    this.writes = this.writes.then(async () => {
      try {
        this.write(synReplyFrame(streamId, await block));
      } catch (err) {
        this.fail(err as Error);
      } finally {
        this.queued--;
      }
    });
  }

  /** @internal */
  sendData(streamId: number, data: Buffer, fin: boolean): boolean {
    this.enqueue(dataFrames(streamId, data, fin));
    return this.writable;
  }

  /** @internal */
  sendReset(streamId: number, status: number): void {
    this.enqueue(rstStreamFrame(streamId, status));
  }

  private enqueue(frame: Buffer): void {
    if (this.queued === 0) {
      this.write(frame);
      return;
    }
    this.queued++;
    this.writes = this.writes.then(() => {
      this.write(frame);
      this.queued--;
    });
  }

  private write(frame: Buffer): void {
    if (this.closed || this.socket.destroyed || this.socket.writableEnded) return;
    // one write per frame: Go's header reader expects a whole compressed block to be readable at once
    this.socket.write(frame);
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    let raws;
    try {
      raws = this.splitter.push(chunk);
    } catch (err) {
      this.protocolError(err as Error);
      return;
    }
    for (const raw of raws) {
      // decode now so header blocks enter zlib in wire order; handle in the same order
      const decoded = decodeFrame(raw, this.inbound);
      decoded.catch(() => {});
      this.handling = this.handling.then(async () => {
        if (this.closed) return;
        let frame: SpdyFrame;
        try {
          frame = await decoded;
        } catch (err) {
          this.protocolError(err as Error);
          return;
        }
        this.handle(frame);
      });
    }
  }

  private handle(frame: SpdyFrame): void {
    switch (frame.type) {
      case 'syn_stream': {
        // client streams have odd, increasing ids
        if (frame.streamId % 2 === 0 || frame.streamId <= this.lastStreamId || this.streams.has(frame.streamId)) {
          this.sendReset(frame.streamId, RST_PROTOCOL_ERROR);
          return;
        }
        this.lastStreamId = frame.streamId;
        const stream = new SpdyStream(this, frame.streamId, frame.headers);
        this.streams.set(stream.id, stream);
        if (frame.unidirectional) stream.localClosed = true;
        this.emit('stream', stream);
        if (frame.fin) stream.closeRemote('end');
        return;
      }
      case 'data': {
        const stream = this.streams.get(frame.streamId);
        // as spdystream does, data for an unknown or finished stream is dropped
        if (!stream || stream.remoteClosed) return;
        if (frame.data.length) stream.emit('data', frame.data);
        if (frame.fin) stream.closeRemote('end');
        return;
      }
      case 'rst_stream': {
        const stream = this.streams.get(frame.streamId);
        if (!stream) return;
        stream.localClosed = true;
        stream.closeRemote('reset');
        return;
      }
      case 'headers': {
        const stream = this.streams.get(frame.streamId);
        if (stream && frame.fin) stream.closeRemote('end');
        return;
      }
      case 'ping':
        // the client's pings have odd ids; echo them (ours would be even, and we send none)
        if (frame.id % 2 === 1) this.enqueue(pingFrame(frame.id));
        return;
      case 'goaway':
        this.goneAway = true;
        this.close();
        return;
      case 'syn_reply':
        // only the client opens streams here
        this.sendReset(frame.streamId, RST_PROTOCOL_ERROR);
        return;
      case 'settings':
      case 'window_update':
      case 'unknown':
        // spdystream does no flow control; settings carry nothing we act on
        return;
      default: {
        const never: never = frame;
        return never;
      }
    }
  }

  private protocolError(err: Error): void {
    const error = err instanceof SpdyProtocolError ? err : new SpdyProtocolError(err.message);
    this.goAway(GOAWAY_PROTOCOL_ERROR);
    this.emit('error', error);
    this.close(1000);
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.emit('error', err);
    this.destroy();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.inbound.close();
    this.outbound.close();
    for (const stream of this.streams.values()) {
      stream.localClosed = true;
      stream.closeRemote('end');
    }
    this.streams.clear();
    if (!this.socket.destroyed) this.socket.destroy();
    this.emit('close');
  }
}
