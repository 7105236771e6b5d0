// The live-updates socket: reconnects with backoff and hands typed events to listeners.
import type { LiveEvent } from '../shared/api.ts';

export class LiveSocket {
  private ws: WebSocket | undefined;
  private closed = false;
  private delay = 1000;
  private listeners = new Set<(e: LiveEvent) => void>();
  private openListeners = new Set<() => void>();

  constructor() {
    this.connect();
  }

  on(listener: (e: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called on every (re)connect: events sent while disconnected are lost, so callers re-read state. */
  onOpen(listener: () => void): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
  }

  private connect(): void {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/events`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 1000;
      for (const l of this.openListeners) l();
    };
    ws.onmessage = (m) => {
      let e: LiveEvent;
      try {
        e = JSON.parse(String(m.data)) as LiveEvent;
      } catch {
        return;
      }
      for (const l of this.listeners) l(e);
    };
    ws.onclose = () => {
      if (this.closed) return;
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(30_000, this.delay * 2);
    };
  }
}
