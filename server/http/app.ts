// The web server: Express for HTTP, `ws` for the terminal and live updates, one store.
// Security model in short: a random opaque session cookie (HttpOnly, SameSite=Strict), every
// state-changing request must be JSON and come from our own Origin, every WebSocket upgrade must
// carry our exact Origin AND a valid session before anything (a pty above all) is started, a
// strict CSP, rate limits on joins/logins/checks, and no request headers in logs.
import express, { type NextFunction, type Request, type Response } from 'express';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { timingSafeEqual, createHash } from 'node:crypto';
import os from 'node:os';
import type { ClusterBackend } from '../backends/types.ts';
import type { Store, LearnerRow } from '../store/index.ts';
import { Terminals, bridgeTerminal } from '../terminal/index.ts';
import { MAX_CLIENT_FRAME, CloseCode } from '../../shared/terminal-protocol.ts';
import type { Coursework } from './ports.ts';
import { Environments, defaultEnvironmentLimits, type EnvironmentLimits } from './environments.ts';
import { LiveUpdates } from './live.ts';
import { HttpError } from './errors.ts';
import { originAllowed } from './origin.ts';
import { TokenBucket } from './rate-limit.ts';
import { Metrics } from './metrics.ts';
import { GradingQueue, type GradingQueueOptions } from './grading-queue.ts';
import { learnerRoutes } from './routes-learner.ts';
import { instructorRoutes } from './routes-instructor.ts';

export const SESSION_COOKIE = 'kubelab_session';

export interface ServerOptions {
  store: Store;
  coursework: Coursework;
  backend: ClusterBackend;
  log: Logger;
  /** the instructor's password/token */
  instructorToken: string;
  /** directory of the built web bundle (the only static files served) */
  webDir: string;
  /** origins browsers reach us at; filled from the listening address when empty */
  origins?: string[];
  limits?: Partial<EnvironmentLimits>;
  /** mark cookies Secure (behind TLS) */
  secureCookies?: boolean;
  /** requests per minute: joins/logins per client address, checks per learner */
  rates?: { joinsPerMinute?: number; checksPerMinute?: number; loginsPerMinute?: number };
  /** idle time after which a session cookie stops working */
  sessionIdleMs?: number;
  maxTerminals?: number;
  /** gradings at once (default: one per core, at least 2) and how long a check may wait for its turn */
  grading?: Partial<GradingQueueOptions>;
}

export interface Principal {
  role: 'learner' | 'instructor';
  learner?: LearnerRow;
  token: string;
}

export interface AppContext {
  opts: ServerOptions;
  store: Store;
  coursework: Coursework;
  environments: Environments;
  terminals: Terminals;
  live: LiveUpdates;
  metrics: Metrics;
  log: Logger;
  checkLimiter: TokenBucket;
  joinLimiter: TokenBucket;
  loginLimiter: TokenBucket;
  gradings: GradingQueue;
  origins: () => string[];
  setSessionCookie(res: Response, token: string): void;
  principal(req: Request): Principal | undefined;
}

export interface KubelabServer {
  app: express.Express;
  server: http.Server;
  context: AppContext;
  /** start listening; resolves with the URL */
  listen(port: number, host: string): Promise<string>;
  /** stop: close sockets and terminals; environments are kept for the next start unless `dispose` */
  close(opts?: { dispose?: boolean }): Promise<void>;
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

/** Constant-time comparison of secrets of any length. */
export function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

// path sequences never found in a URL of ours (after Kubernetes' Ingress path deny-list)
const badPath = /(^|\/)\.\.?(\/|$)|%2e|%2f|%5c|\\|\/\/|\0/i;

export function createKubelabServer(opts: ServerOptions): KubelabServer {
  const log = opts.log;
  const store = opts.store;
  const metrics = new Metrics();
  const live = new LiveUpdates();
  const terminals = new Terminals({ max: opts.maxTerminals ?? 500 });
  const limits = { ...defaultEnvironmentLimits, ...opts.limits };
  const environments = new Environments(opts.backend, store, opts.coursework, log, (learnerId, event) => live.toLearner(learnerId, event), limits);
  environments.onEnded = (envId) => terminals.close(envId, 'your environment ended');
  let origins = [...(opts.origins ?? [])];
  const sessionIdleMs = opts.sessionIdleMs ?? 7 * 24 * 3600_000;
  const rates = { joinsPerMinute: 20, checksPerMinute: 20, loginsPerMinute: 5, ...opts.rates };

  const principal = (req: Request | http.IncomingMessage): Principal | undefined => {
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (!token || token.length > 200) return undefined;
    const s = store.findSession(token, sessionIdleMs);
    if (!s) return undefined;
    if (s.role === 'learner') {
      const learner = s.learnerId ? store.getLearner(s.learnerId) : undefined;
      if (!learner) return undefined;
      return { role: 'learner', learner, token };
    }
    return { role: 'instructor', token };
  };

  const context: AppContext = {
    opts,
    store,
    coursework: opts.coursework,
    environments,
    terminals,
    live,
    metrics,
    log,
    checkLimiter: new TokenBucket(Math.max(1, Math.ceil(rates.checksPerMinute / 4)), rates.checksPerMinute / 60),
    joinLimiter: new TokenBucket(Math.max(1, Math.ceil(rates.joinsPerMinute / 4)), rates.joinsPerMinute / 60),
    loginLimiter: new TokenBucket(Math.max(1, Math.ceil(rates.loginsPerMinute / 2)), rates.loginsPerMinute / 60),
    gradings: new GradingQueue({ concurrency: Math.max(2, os.availableParallelism()), maxWaitMs: 120_000, ...opts.grading }),
    origins: () => origins,
    setSessionCookie(res, token) {
      res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: opts.secureCookies ?? false, path: '/', maxAge: sessionIdleMs });
    },
    principal,
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('etag', false);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.setHeader(
      'Content-Security-Policy',
      [
        "default-src 'self'",
        "script-src 'self'",
        // xterm.js adds a <style> element for its theme at run time
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        `connect-src 'self' ${origins.map((o) => o.replace(/^http/, 'ws')).join(' ')}`.trim(),
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
      ].join('; '),
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : req.path.startsWith('/api') ? 'unmatched' : 'static';
      metrics.http.labels(req.method, route, String(res.statusCode)).observe(ms / 1000);
      if (req.path !== '/healthz' && req.path !== '/metrics') log.debug({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms) }, 'request');
    });
    if (badPath.test(req.url.split('?')[0])) {
      res.status(404).json({ error: 'not found' });
      return;
    }
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, environments: environments.count, terminals: terminals.count, gradings: context.gradings.load });
  });
  app.get('/metrics', async (_req, res) => {
    metrics.environments.set(environments.count);
    metrics.warm.reset();
    metrics.warmFailed.reset();
    for (const w of opts.backend.warmStats?.() ?? []) {
      metrics.warm.labels(w.labId).set(w.idle);
      metrics.warmFailed.labels(w.labId).set(w.failed);
    }
    metrics.terminals.set(terminals.count);
    metrics.liveConnections.set(live.connections);
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  // State changes: JSON only (a cross-site form can't send it without a preflight) and, when
  // the browser says where it comes from, from us.
  app.use('/api', (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const origin = req.headers.origin;
    if (origin !== undefined && !originAllowed(origin, origins)) {
      res.status(403).json({ error: 'cross-origin request refused' });
      return;
    }
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined || req.headers['content-type'] !== undefined;
    if (hasBody && !req.is('application/json')) {
      res.status(415).json({ error: 'send JSON (Content-Type: application/json)' });
      return;
    }
    next();
  });
  app.use('/api', express.json({ limit: '64kb', strict: true }));

  app.use('/api', learnerRoutes(context));
  app.use('/api', instructorRoutes(context));
  app.use('/api', (_req, res) => {
    res.status(404).json({ error: 'no such API' });
  });

  app.use(
    express.static(opts.webDir, {
      dotfiles: 'deny',
      index: 'index.html',
      redirect: false,
      fallthrough: true,
      setHeaders(res, path) {
        res.setHeader('Cache-Control', path.endsWith('.html') ? 'no-cache' : 'public, max-age=300');
      },
    }),
  );
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });

  // eslint-style four-argument handler: Express recognises error handlers by arity
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) {
      if (err.retryAfter) res.setHeader('Retry-After', String(err.retryAfter));
      res.status(err.status).json({ error: err.message, ...(err.field ? { field: err.field } : {}) });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e?.type === 'entity.too.large') {
      res.status(413).json({ error: 'request body too large (limit 64 kB)' });
      return;
    }
    if (e?.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'request body is not valid JSON' });
      return;
    }
    log.error({ path: req.path, err: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined }, 'request failed');
    res.status(500).json({ error: 'something went wrong on the server' });
  });

  const server = http.createServer({ headersTimeout: 20_000, requestTimeout: 60_000, maxHeaderSize: 16 * 1024 }, app);
  server.maxHeadersCount = 100;

  const terminalWss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME + 1024, perMessageDeflate: false });
  const eventsWss = new WebSocketServer({ noServer: true, maxPayload: 1024, perMessageDeflate: false });

  const refuse = (socket: Duplex, status: number, reason: string, why: string) => {
    metrics.wsRefused.labels(why).inc();
    socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
    socket.destroy();
  };

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws/terminal' && url.pathname !== '/ws/events') return refuse(socket, 404, 'not found', 'path');
    // Origin first: a foreign page must learn nothing, not even whether the cookie is valid.
    if (!originAllowed(req.headers.origin, origins)) return refuse(socket, 403, 'origin not allowed', 'origin');
    const who = principal(req as Request);
    if (!who) return refuse(socket, 401, 'sign in first', 'session');
    if (url.pathname === '/ws/events') {
      eventsWss.handleUpgrade(req, socket, head, (ws) => {
        heartbeat(ws);
        ws.on('message', () => ws.close(CloseCode.policy, 'this socket only listens'));
        if (who.role === 'learner' && who.learner) live.addLearner(who.learner.id, ws);
        else live.addInstructor(ws);
      });
      return;
    }
    const labId = url.searchParams.get('lab') ?? '';
    if (who.role !== 'learner' || !who.learner) return refuse(socket, 403, 'terminals belong to learners', 'role');
    const learner = who.learner;
    const envId = environments.envIdFor(learner.id, labId);
    if (!envId) return refuse(socket, 409, 'start the lab first', 'environment');
    environments
      .ready(learner.id, labId)
      .then(({ env }) => {
        const max = opts.maxTerminals ?? 500;
        if (!terminals.get(envId) && terminals.count >= max) return refuse(socket, 409, `this server already runs ${max} terminals`, 'capacity');
        // The shell starts only once ws has accepted the handshake: a malformed one is refused with no pty behind it.
        terminalWss.handleUpgrade(req, socket, head, (ws) => {
          let session;
          try {
            session = terminals.open(envId, () => ({
              kubeconfig: env.kubeconfig,
              env: env.shellEnv,
              cols: clampInt(url.searchParams.get('cols'), 100),
              rows: clampInt(url.searchParams.get('rows'), 30),
            }));
          } catch (err) {
            ws.close(CloseCode.tryAgain, (err instanceof Error ? err.message : 'no terminal').slice(0, 120));
            return;
          }
          heartbeat(ws);
          metrics.terminalConnects.inc();
          bridgeTerminal(ws, session);
          // typing is being at work (extending needs it); acks and resizes come without the learner
          let touched = 0;
          const touchEvery = Math.min(5000, limits.activeWithinMs / 10);
          ws.on('message', (data, isBinary) => {
            if (isBinary || Date.now() - touched < touchEvery) return;
            let m: { type?: unknown } | undefined;
            try {
              m = JSON.parse(data.toString()) as { type?: unknown };
            } catch {
              return;
            }
            if (m?.type !== 'input') return;
            touched = Date.now();
            environments.touch(learner.id, labId);
          });
        });
      })
      .catch((err: unknown) => refuse(socket, 409, err instanceof Error ? err.message : 'environment not ready', 'environment'));
  });

  const heartbeats = new Set<WebSocket>();
  const alive = new WeakMap<WebSocket, boolean>();
  function heartbeat(ws: WebSocket): void {
    alive.set(ws, true);
    heartbeats.add(ws);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('close', () => heartbeats.delete(ws));
  }
  const pinger = setInterval(() => {
    for (const ws of heartbeats) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, 25_000);
  pinger.unref();

  environments.start();

  return {
    app,
    server,
    context,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const addr = server.address();
          const actual = typeof addr === 'object' && addr ? addr.port : port;
          const shown = host.includes(':') ? `[${host}]` : host;
          const url = `http://${shown}:${actual}`;
          if (!opts.origins?.length) {
            origins = [url];
            if (host === '127.0.0.1' || host === 'localhost') origins.push(`http://localhost:${actual}`, `http://127.0.0.1:${actual}`);
          }
          resolve(url);
        });
      });
    },
    async close(closeOpts) {
      clearInterval(pinger);
      for (const ws of heartbeats) ws.terminate();
      terminalWss.close();
      eventsWss.close();
      terminals.closeAll();
      await environments.close(!closeOpts?.dispose);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function clampInt(v: string | null, fallback: number): number {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 && n < 1000 ? n : fallback;
}
