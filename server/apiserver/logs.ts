// Container output for `kubectl logs`: a bounded buffer of lines per container, fed by the
// runtime's log hook, readable with tailLines/timestamps and followable.
import { objectKey } from './store.ts';

interface LogLine {
  at: number;
  text: string;
}

interface ContainerLog {
  lines: LogLine[];
  bytes: number;
  followers: Set<(line: LogLine) => void>;
  ended: boolean;
  endListeners: Set<() => void>;
}

export interface LogReadOptions {
  tailLines?: number;
  sinceSeconds?: number;
  timestamps?: boolean;
  limitBytes?: number;
  now: number;
}

function render(l: LogLine, timestamps: boolean): string {
  return timestamps ? `${new Date(l.at).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z')} ${l.text}\n` : `${l.text}\n`;
}

export class ContainerLogs {
  private readonly logs = new Map<string, ContainerLog>();

  constructor(
    private readonly maxLines = 2000,
    private readonly maxBytes = 512 * 1024,
  ) {}

  private key(namespace: string, pod: string, container: string): string {
    return `${objectKey(namespace, pod)}/${container}`;
  }

  private entry(key: string): ContainerLog {
    let e = this.logs.get(key);
    if (!e) {
      e = { lines: [], bytes: 0, followers: new Set(), ended: false, endListeners: new Set() };
      this.logs.set(key, e);
    }
    return e;
  }

  append(namespace: string, pod: string, container: string, text: string, at: number): void {
    const e = this.entry(this.key(namespace, pod, container));
    e.ended = false;
    const line = { at, text };
    e.lines.push(line);
    e.bytes += text.length + 1;
    while (e.lines.length > this.maxLines || e.bytes > this.maxBytes) {
      const dropped = e.lines.shift();
      if (!dropped) break;
      e.bytes -= dropped.text.length + 1;
    }
    for (const f of [...e.followers]) f(line);
  }

  /** The container restarted: its output so far becomes the previous instance's (`kubectl logs --previous`). */
  rotate(namespace: string, pod: string, container: string): void {
    const key = this.key(namespace, pod, container);
    const e = this.logs.get(key);
    if (!e) return;
    this.logs.set(`${key}#previous`, { lines: e.lines, bytes: e.bytes, followers: new Set(), ended: true, endListeners: new Set() });
    e.lines = [];
    e.bytes = 0;
    e.ended = false;
  }

  read(namespace: string, pod: string, container: string, opts: LogReadOptions & { previous?: boolean }): string {
    const e = this.logs.get(this.key(namespace, pod, container) + (opts.previous ? '#previous' : ''));
    if (!e) return '';
    let lines = e.lines;
    if (opts.sinceSeconds !== undefined) {
      const since = opts.now - opts.sinceSeconds * 1000;
      lines = lines.filter((l) => l.at >= since);
    }
    if (opts.tailLines !== undefined) lines = opts.tailLines <= 0 ? [] : lines.slice(-opts.tailLines);
    let out = lines.map((l) => render(l, Boolean(opts.timestamps))).join('');
    if (opts.limitBytes !== undefined && out.length > opts.limitBytes) out = out.slice(0, opts.limitBytes);
    return out;
  }

  /** Call `onLine` for each new line until the container ends (`onEnd`) or the returned function is called. */
  follow(namespace: string, pod: string, container: string, timestamps: boolean, onLine: (text: string) => void, onEnd: () => void): () => void {
    const e = this.entry(this.key(namespace, pod, container));
    const f = (l: LogLine) => onLine(render(l, timestamps));
    e.followers.add(f);
    e.endListeners.add(onEnd);
    return () => {
      e.followers.delete(f);
      e.endListeners.delete(onEnd);
    };
  }

  /** The container stopped: followers finish. */
  end(namespace: string, pod: string, container: string): void {
    const e = this.logs.get(this.key(namespace, pod, container));
    if (!e) return;
    e.ended = true;
    for (const l of [...e.endListeners]) l();
    e.followers.clear();
    e.endListeners.clear();
  }

  /** Forget a pod's logs (it was deleted). */
  removePod(namespace: string, pod: string): void {
    const prefix = `${objectKey(namespace, pod)}/`;
    for (const [k, e] of this.logs) {
      if (!k.startsWith(prefix)) continue;
      for (const l of [...e.endListeners]) l();
      this.logs.delete(k);
    }
  }
}
