// The whole platform in this process, as `kubelab serve` assembles it: the real labs under
// labs/, the embedded backend on the chosen data plane (netns where this host allows it), the
// real grader, terminals and store. Limits are raised so a test or benchmark can hold a class.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { PodRuntime } from '../../server/apiserver/runtime.ts';
import { createEmbeddedBackend, type EmbeddedBackend } from '../../server/backends/embedded.ts';
import { chooseRuntime } from '../../server/dataplane/index.ts';
import { createKubelabServer, type KubelabServer, type ServerOptions } from '../../server/http/app.ts';
import { loadCoursework } from '../../server/http/coursework.ts';
import { buildWebBundle } from '../../server/http/bundle.ts';
import type { Coursework } from '../../server/http/ports.ts';
import { Store } from '../../server/store/index.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface Platform {
  server: KubelabServer;
  url: string;
  store: Store;
  coursework: Coursework;
  backend: EmbeddedBackend;
  runtime: PodRuntime;
  dir: string;
  /** close the server, dispose every environment, remove the state directory */
  close(): Promise<void>;
}

let webDir: string | undefined;

/** Build the web bundle once per process (it takes a second). */
async function sharedWebDir(): Promise<string> {
  if (!webDir) {
    webDir = join(mkdtempSync(join(tmpdir(), 'kubelab-rel-web-')), 'web');
    await buildWebBundle(webDir);
    const dir = webDir;
    process.once('exit', () => rmSync(join(dir, '..'), { recursive: true, force: true }));
  }
  return webDir;
}

export interface PlatformOptions {
  /** environments (and terminals) the server may hold */
  capacity?: number;
  runtime?: PodRuntime;
  labs?: string;
  server?: Partial<ServerOptions>;
  /** embedded environments kept ready per lab, as `kubelab serve --warm` (default 0: built on demand) */
  warm?: number;
}

export async function startPlatform(opts: PlatformOptions = {}): Promise<Platform> {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-rel-'));
  const runtime = opts.runtime ?? (await chooseRuntime());
  await runtime.reapLeftovers();
  const backend = createEmbeddedBackend({ runtime, stateDir: join(dir, 'clusters'), warm: opts.warm ?? 0 });
  const { coursework } = await loadCoursework(opts.labs ?? join(repoRoot, 'labs'));
  backend.prepare(coursework.list().map((l) => l.environment));
  const store = new Store(join(dir, 'kubelab.db'));
  const capacity = opts.capacity ?? 50;
  const server = createKubelabServer({
    store,
    coursework,
    backend,
    log: pino({ level: process.env.KUBELAB_TEST_LOG ?? 'silent' }),
    instructorToken: 'reliability-teacher-token',
    webDir: await sharedWebDir(),
    limits: { max: capacity },
    maxTerminals: capacity,
    rates: { joinsPerMinute: 100_000, checksPerMinute: 100_000, loginsPerMinute: 1000 },
    ...opts.server,
  });
  const url = await server.listen(0, '127.0.0.1');
  return {
    server,
    url,
    store,
    coursework,
    backend,
    runtime,
    dir,
    async close() {
      await server.close({ dispose: true });
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
