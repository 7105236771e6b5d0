// Watch streams: newline-delimited JSON events, resumable from a resourceVersion through the
// store's history (an ERROR 410 event once it was evicted, which makes clients relist), filtered
// by namespace and selectors with the cacher's transitions (an object leaving the selector is
// DELETED for this watcher, one entering it is ADDED), optionally as one-row Tables.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expired } from './errors.ts';
import type { ClusterContext } from './context.ts';
import type { ResourceType } from './resources.ts';
import type { KubeObject, WatchEventType } from './runtime.ts';
import type { CompiledFieldSelector, LabelRequirement } from './selectors.ts';
import { labelsMatch } from './selectors.ts';
import type { StoredEvent } from './store.ts';
import { toTable, type IncludeObject } from './tables.ts';
import type { ResponseForm } from './request.ts';
import { badRequest } from './errors.ts';

export interface WatchFilter {
  namespace?: string;
  labels: LabelRequirement[];
  fields: CompiledFieldSelector;
}

export interface WatchOptions {
  resourceVersion: string | null;
  timeoutSeconds?: number;
  allowBookmarks: boolean;
  form: ResponseForm;
  includeObject: IncludeObject;
  /** bookmark interval (kube-apiserver sends them about once a minute) */
  bookmarkMs?: number;
}

/** Past this much unsent output a watcher is too slow: the stream ends and the client re-watches. */
const MAX_BUFFERED = 16 * 1024 * 1024;

export function matchesFilter(o: KubeObject, f: WatchFilter): boolean {
  if (f.namespace !== undefined && o.metadata.namespace !== f.namespace) return false;
  return labelsMatch(f.labels, o.metadata.labels) && f.fields.matches(o);
}

/** The event a watcher with this filter sees for a stored change, if any. */
export function eventFor(e: StoredEvent, f: WatchFilter): { type: WatchEventType; object: KubeObject } | undefined {
  const now = matchesFilter(e.object, f);
  const before = e.previous ? matchesFilter(e.previous, f) : false;
  switch (e.type) {
    case 'ADDED':
      return now ? { type: 'ADDED', object: e.object } : undefined;
    case 'DELETED':
      return before || now ? { type: 'DELETED', object: e.object } : undefined;
    case 'MODIFIED':
      if (now && before) return { type: 'MODIFIED', object: e.object };
      if (now) return { type: 'ADDED', object: e.object };
      if (before) return { type: 'DELETED', object: e.object };
      return undefined;
  }
}

export function serveWatch(ctx: ClusterContext, req: IncomingMessage, res: ServerResponse, r: ResourceType, filter: WatchFilter, opts: WatchOptions): void {
  let since: number | undefined;
  if (opts.resourceVersion !== null && opts.resourceVersion !== '' && opts.resourceVersion !== '0') {
    if (!/^\d+$/.test(opts.resourceVersion)) throw badRequest(`resourceVersion: Invalid value: "${opts.resourceVersion}": must be a positive integer`);
    since = Number(opts.resourceVersion);
  }
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  // client-go blocks until the response headers arrive; Node holds them back until the first write
  res.flushHeaders();
  let headersSent = false;
  let ended = false;
  const asTable = opts.form.as === 'table';
  const write = (type: string, object: unknown) => {
    if (ended) return;
    res.write(JSON.stringify({ type, object }) + '\n');
    if (res.writableLength > MAX_BUFFERED) finish();
  };
  const send = (type: WatchEventType, object: KubeObject) => {
    if (asTable) {
      const t = toTable(r.plural, [object], {
        now: ctx.now(),
        includeObject: opts.includeObject,
        noHeaders: headersSent,
        apiVersion: opts.form.as === 'table' ? opts.form.apiVersion : undefined,
      });
      headersSent = true;
      write(type, t);
    } else if (opts.form.as === 'metadata') {
      write(type, { kind: 'PartialObjectMetadata', apiVersion: opts.form.apiVersion, metadata: object.metadata });
    } else write(type, object);
  };
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe = () => {};
  const finish = () => {
    if (ended) return;
    ended = true;
    unsubscribe();
    for (const t of timers) clearTimeout(t), clearInterval(t);
    ctx.closed.removeEventListener('abort', finish);
    res.end();
  };
  res.on('close', finish);
  ctx.closed.addEventListener('abort', finish);

  // history and subscription are taken in the same tick, so no change falls between them
  let backlog: StoredEvent[] = [];
  if (since !== undefined) {
    const h = ctx.store.eventsSince(since);
    if ('expired' in h) {
      write('ERROR', expired(`too old resource version: ${since} (${h.oldest})`).toStatus());
      finish();
      return;
    }
    backlog = h.events;
  }
  unsubscribe = ctx.store.subscribe((e) => {
    if (e.resource !== r.plural) return;
    const ev = eventFor(e, filter);
    if (ev) send(ev.type, ev.object);
  });
  if (since === undefined) {
    const initial = ctx.store.list(r.plural, filter.namespace).filter((o) => matchesFilter(o, filter));
    for (const o of initial) send('ADDED', o);
  } else {
    for (const e of backlog) {
      if (e.resource !== r.plural) continue;
      const ev = eventFor(e, filter);
      if (ev) send(ev.type, ev.object);
    }
  }
  const bookmark = () => write('BOOKMARK', { kind: r.kind, apiVersion: r.group ? `${r.group}/${r.version}` : r.version, metadata: { resourceVersion: String(ctx.store.resourceVersion) } });
  if (opts.allowBookmarks) timers.push(setInterval(bookmark, opts.bookmarkMs ?? 60_000));
  // without timeoutSeconds kube-apiserver picks a random time between one and two minRequestTimeouts
  const timeout = opts.timeoutSeconds !== undefined ? opts.timeoutSeconds * 1000 : (1800 + Math.random() * 1800) * 1000;
  timers.push(setTimeout(finish, timeout));
}
