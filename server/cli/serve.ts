// `kubelab serve`: the platform for a class. Reaps what a crashed run left, prints the data-plane
// banner, the URL and (when generated) the instructor token, and on SIGINT/SIGTERM closes
// terminals and clusters and the database; environments come back at the next start.
import { existsSync, mkdirSync, readFileSync, writeFileSync, watch, type FSWatcher } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';
import type { ClusterBackend } from '../backends/types.ts';
import { createKindBackend } from '../backends/kind/index.ts';
import { Store } from '../store/index.ts';
import { createKubelabServer, type KubelabServer } from '../http/app.ts';
import { loadCoursework } from '../http/coursework.ts';
import { buildWebBundle, webSource } from '../http/bundle.ts';
import { detectSandbox, reapTerminalLeftovers } from '../terminal/index.ts';

export interface ServeArgs {
  port: number;
  host: string;
  labs: string;
  backend: 'embedded' | 'kind';
  dev: boolean;
  state: string;
  /** embedded environments kept ready per lab */
  warm: number;
}

const usage = `usage: kubelab serve [--port 8080] [--host 127.0.0.1] [--labs labs] [--backend embedded|kind] [--dev] [--state DIR] [--warm N]

  --port      port to listen on (0 picks a free one)              default 8080
  --host      address to bind; the browser must use this origin   default 127.0.0.1
  --labs      folder of labs (each a directory with lab.yaml)     default labs
  --backend   embedded (in-process cluster) or kind (Docker; KUBELAB_KIND_* settings, docs/kind.md)
                                                                  default embedded
  --dev       reload lab files and rebuild the web UI on change
  --state     where the database and generated files live         default .kubelab
  --warm      embedded environments kept ready per lab, so starting
              a lab is instant (0: build each on demand)          default 2

environment: KUBELAB_INSTRUCTOR_TOKEN (else read from or generated into STATE/config.json),
KUBELAB_ORIGIN (the public origin when behind a proxy, e.g. https://lab.example.com),
KUBELAB_MAX_ENVIRONMENTS, KUBELAB_ENV_TTL_MINUTES, KUBELAB_LOG_LEVEL.`;

export class UsageError extends Error {}

/** Parse `serve` arguments; throws UsageError naming the bad flag. */
export function parseServeArgs(args: string[]): ServeArgs {
  const out: ServeArgs = { port: 8080, host: '127.0.0.1', labs: 'labs', backend: 'embedded', dev: false, state: '.kubelab', warm: 2 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag}: needs a value`);
      return v;
    };
    switch (flag) {
      case '--port': {
        const p = Number(value());
        if (!Number.isInteger(p) || p < 0 || p > 65535) throw new UsageError('--port: must be 0 to 65535');
        out.port = p;
        break;
      }
      case '--host':
        out.host = value();
        break;
      case '--labs':
        out.labs = value();
        break;
      case '--backend': {
        const b = value();
        if (b !== 'embedded' && b !== 'kind') throw new UsageError('--backend: must be embedded or kind');
        out.backend = b;
        break;
      }
      case '--dev':
        out.dev = true;
        break;
      case '--state':
        out.state = value();
        break;
      case '--warm': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0 || n > 100) throw new UsageError('--warm: must be a whole number from 0 to 100');
        out.warm = n;
        break;
      }
      default:
        throw new UsageError(`unknown flag ${a}`);
    }
  }
  return out;
}

/** The instructor token: from the environment, else the state's config file, else a new one saved there. */
export function instructorToken(stateDir: string): { token: string; generated: boolean; source: string } {
  if (process.env.KUBELAB_INSTRUCTOR_TOKEN) return { token: process.env.KUBELAB_INSTRUCTOR_TOKEN, generated: false, source: 'KUBELAB_INSTRUCTOR_TOKEN' };
  const file = join(stateDir, 'config.json');
  if (existsSync(file)) {
    const config = JSON.parse(readFileSync(file, 'utf8')) as { instructorToken?: unknown };
    if (typeof config.instructorToken === 'string' && config.instructorToken.length >= 8) return { token: config.instructorToken, generated: false, source: file };
  }
  const token = randomBytes(18).toString('base64url');
  writeFileSync(file, JSON.stringify({ instructorToken: token }, null, 2) + '\n', { mode: 0o600 });
  return { token, generated: true, source: file };
}

/** The cluster backend and the data plane's banner line. */
async function createBackend(kind: 'embedded' | 'kind', stateDir: string, log: Logger, warm: number): Promise<{ backend: ClusterBackend; banner: string }> {
  if (kind === 'kind') {
    const kindLog = log.child({ backend: 'kind' });
    // KUBELAB_KIND_STATE_DIR, when set, wins over the server's own state directory
    const backend = createKindBackend({ stateDir: process.env.KUBELAB_KIND_STATE_DIR ? undefined : join(stateDir, 'kind'), log: (level, message) => kindLog[level](message) });
    // host checks, leftovers of an earlier run deleted, the warm pool started: problems show now,
    // not at the first learner's click. A backend that cannot start is closed and reported.
    try {
      await backend.start();
    } catch (err) {
      await backend.close().catch(() => undefined);
      throw err;
    }
    const o = backend.options;
    return { backend, banner: `kind: clusters are kind + ${o.cni === 'calico' ? 'Calico' : o.cni} in Docker (${backend.host?.kindVersion ?? 'kind'}; pool ${o.poolSize}; state ${o.stateDir})` };
  }
  let runtime: { reason: string; reapLeftovers(): Promise<void> } | undefined;
  try {
    const dp = (await import(new URL('../dataplane/index.ts', import.meta.url).href)) as { chooseRuntime?: () => Promise<{ reason: string; reapLeftovers(): Promise<void> }> };
    if (typeof dp.chooseRuntime === 'function') runtime = await dp.chooseRuntime();
  } catch (err) {
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'no data plane chooser; the embedded backend picks its default');
  }
  if (runtime) await runtime.reapLeftovers();
  const mod = (await import(new URL('../backends/embedded.ts', import.meta.url).href).catch((err: unknown) => {
    throw new Error(`the embedded backend (server/backends/embedded.ts) could not be loaded: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  })) as { createEmbeddedBackend?: (o: Record<string, unknown>) => ClusterBackend };
  if (typeof mod.createEmbeddedBackend !== 'function') throw new Error('server/backends/embedded.ts does not export createEmbeddedBackend');
  const warmLog = log.child({ part: 'warm' });
  const backend = mod.createEmbeddedBackend({
    ...(runtime ? { runtime } : {}),
    stateDir: join(stateDir, 'clusters'),
    warm,
    log: (level: 'info' | 'warn', message: string) => warmLog[level](message),
  });
  const ready = warm ? `; ${warm} environment${warm === 1 ? '' : 's'} kept ready per lab` : '';
  return { backend, banner: `${runtime ? `data plane: ${runtime.reason}` : 'data plane: the embedded backend default'}${ready}` };
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  let opts: ServeArgs;
  try {
    opts = parseServeArgs(args);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`kubelab serve: ${err.message}\n${usage}\n`);
      return 2;
    }
    throw err;
  }
  const stateDir = resolve(opts.state);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const log = pino({ level: process.env.KUBELAB_LOG_LEVEL ?? 'info', base: { app: 'kubelab' }, redact: ['token', 'cookie', 'headers.cookie', 'kubeconfig'] });
  const say = (line: string) => process.stdout.write(line + '\n');

  const reaped = reapTerminalLeftovers();
  if (reaped) log.info({ reaped }, 'removed leftovers of an earlier run');
  const sandbox = detectSandbox();
  if (sandbox.mode === 'none') log.warn({ reason: sandbox.reason }, 'LEARNER SHELLS ARE NOT SANDBOXED');

  const webDir = join(stateDir, 'web');
  const ms = await buildWebBundle(webDir);
  log.info({ ms }, 'web bundle built');

  const { coursework, warnings } = await loadCoursework(resolve(opts.labs), { log: log.child({ part: 'grader' }) });
  for (const w of warnings) log.warn(w);
  for (const p of coursework.problems()) log.warn({ problem: p }, 'lab problem');

  let backend: ClusterBackend;
  let banner: string;
  try {
    ({ backend, banner } = await createBackend(opts.backend, stateDir, log, opts.warm));
  } catch (err) {
    // Serve the catalogue anyway; starting a lab says plainly why it can't.
    const why = err instanceof Error ? err.message : String(err);
    log.error({ err: why }, 'NO CLUSTER BACKEND: learners cannot start environments');
    banner = `cluster backend unavailable: ${why}`;
    backend = {
      name: opts.backend,
      provision: async () => {
        throw new Error(`this server has no ${opts.backend} cluster backend (${why})`);
      },
      close: async () => {},
    };
  }

  const store = new Store(join(stateDir, 'kubelab.db'));
  const token = instructorToken(stateDir);
  const origins = process.env.KUBELAB_ORIGIN ? process.env.KUBELAB_ORIGIN.split(',').map((s) => s.trim()) : undefined;
  const server: KubelabServer = createKubelabServer({
    store,
    coursework,
    backend,
    log,
    instructorToken: token.token,
    webDir,
    origins,
    secureCookies: origins?.every((o) => o.startsWith('https:')) ?? false,
    limits: {
      ...(process.env.KUBELAB_MAX_ENVIRONMENTS ? { max: Number(process.env.KUBELAB_MAX_ENVIRONMENTS) } : {}),
      ...(process.env.KUBELAB_ENV_TTL_MINUTES ? { ttlMs: Number(process.env.KUBELAB_ENV_TTL_MINUTES) * 60_000 } : {}),
    },
  });
  let url: string;
  try {
    url = await server.listen(opts.port, opts.host);
  } catch (err) {
    process.stderr.write(`kubelab serve: cannot listen on ${opts.host}:${opts.port}: ${err instanceof Error ? err.message : String(err)}\n`);
    await server.close({ dispose: true });
    store.close();
    return 1;
  }
  const recreated = server.context.environments.recreate();
  // environments made ready ahead of learners, after those being recreated have started
  const prepare = () => backend.prepare?.(coursework.list().map((l) => l.environment));
  prepare();

  const watchers: FSWatcher[] = [];
  let devNote = '';
  if (opts.dev) {
    let labTimer: NodeJS.Timeout | undefined;
    let webTimer: NodeJS.Timeout | undefined;
    const onLabs = () => {
      clearTimeout(labTimer);
      labTimer = setTimeout(() => {
        coursework.reload().then(
          () => {
            log.info({ labs: coursework.list().length, problems: coursework.problems() }, 'labs reloaded');
            prepare();
            server.context.live.classChanged();
          },
          (err: unknown) => log.error({ err: String(err) }, 'lab reload failed'),
        );
      }, 200);
    };
    const onWeb = () => {
      clearTimeout(webTimer);
      webTimer = setTimeout(() => void buildWebBundle(webDir, { minify: false }).then((t) => log.info({ ms: t }, 'web bundle rebuilt'), (err: unknown) => log.error({ err: String(err) }, 'web build failed')), 150);
    };
    try {
      watchers.push(watch(resolve(opts.labs), { recursive: true }, onLabs));
      watchers.push(watch(webSource, { recursive: true }, onWeb));
      devNote = 'dev mode: lab files and the web UI reload on change';
    } catch (err) {
      log.warn({ err: String(err) }, 'could not watch files for --dev');
    }
  }

  say(banner);
  say(`terminal sandbox: ${sandbox.reason}`);
  say(`labs: ${coursework.list().length} from ${resolve(opts.labs)}${coursework.problems().length ? ` (${coursework.problems().length} problems, see the log)` : ''}`);
  if (recreated) say(`recreating ${recreated} environments from the last run`);
  say(token.generated ? `instructor token (saved in ${token.source}): ${token.token}` : `instructor token: from ${token.source}`);
  if (devNote) say(devNote);
  say(`kubelab is serving at ${origins?.[0] ?? url}`);

  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      say(`\n${signal}: shutting down (environments come back at the next start)`);
      for (const w of watchers) w.close();
      server
        .close()
        .catch((err: unknown) => log.error({ err: String(err) }, 'shutdown failed'))
        .finally(() => {
          store.close();
          done();
        });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}
