// Learners' environments on this server: provisioning with progress, a time limit that an
// active learner can extend, disposal on expiry, a cap on how many run at once, and recreation
// after a restart with the objects the learner had made.
import type { Logger } from 'pino';
import type { ClusterBackend, Environment } from '../backends/types.ts';
import type { KubeObject } from '../apiserver/runtime.ts';
import type { Store, EnvironmentRow, LearnerRow } from '../store/index.ts';
import { newId } from '../store/index.ts';
import type { EnvironmentView, LiveEvent, ProgressEvent } from '../../shared/api.ts';
import type { Coursework, StepGrader } from './ports.ts';
import { applyObjects, readLearnerObjects, savedResources } from './objects.ts';
import { HttpError } from './errors.ts';

export interface EnvironmentLimits {
  /** how long an environment lives without an extension */
  ttlMs: number;
  /** no extension goes past created + this */
  maxLifetimeMs: number;
  /** extending is offered once less than this remains */
  warnBeforeMs: number;
  /** environments running (or provisioning) at once on this server */
  max: number;
  /** how often a learner's objects are saved */
  saveEveryMs: number;
  /** after a change to one of them (where the backend reports changes), save once quiet this long */
  saveAfterChangeMs: number;
  /** extending needs terminal input or a lab action by the learner within this long */
  activeWithinMs: number;
  /** browsers hear "cluster changed" at most this often (a burst of changes is one event) */
  changeEventEveryMs: number;
}

export const defaultEnvironmentLimits: EnvironmentLimits = {
  ttlMs: 60 * 60_000,
  maxLifetimeMs: 4 * 60 * 60_000,
  warnBeforeMs: 10 * 60_000,
  max: 50,
  saveEveryMs: 60_000,
  saveAfterChangeMs: 250,
  activeWithinMs: 15 * 60_000,
  changeEventEveryMs: 300,
};

/** What the policy map draws: a change to one of these tells the learner's browsers to redraw it. */
const mapResources = new Set(['namespaces', 'pods', 'networkpolicies', 'services']);

interface Live {
  row: EnvironmentRow;
  env?: Environment;
  grader?: StepGrader;
  ready: Promise<void>;
  abort: AbortController;
  lastProgress?: ProgressEvent;
  saving?: Promise<void>;
  /** a change came in while saving: save again when done */
  dirty?: boolean;
  saveTimer?: NodeJS.Timeout;
  /** when the oldest change not yet saved happened */
  firstUnsaved?: number;
  stopWatching?: () => void;
  /** when the learner last typed in the terminal or did something in the lab */
  lastActive: number;
  /** counts changes the backend reported, so a cached picture of the cluster knows it is stale */
  version: number;
  changeTimer?: NodeJS.Timeout;
  lastChangeEvent: number;
}

export type EnvironmentEvents = (learnerId: string, event: LiveEvent) => void;

export class Environments {
  private readonly live = new Map<string, Live>();
  private timer: NodeJS.Timeout | undefined;
  private lastSave = 0;
  onEnded: (envId: string, learnerId: string) => void = () => {};

  constructor(
    private readonly backend: ClusterBackend,
    private readonly store: Store,
    private readonly coursework: Coursework,
    private readonly log: Logger,
    private readonly emit: EnvironmentEvents,
    readonly limits: EnvironmentLimits = defaultEnvironmentLimits,
  ) {}

  get count(): number {
    return this.live.size;
  }

  get backendName(): string {
    return this.backend.name;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), 5000);
    this.timer.unref();
  }

  /** The learner's environment for a lab as the browser sees it. */
  view(learnerId: string, labId: string): EnvironmentView {
    const live = this.find(learnerId, labId);
    const row = live?.row ?? this.store.latestEnvironment(learnerId, labId);
    if (!row || row.status === 'disposed') return { status: 'none', labId };
    const remaining = row.expiresAt - Date.now();
    return {
      status: row.status === 'ready' && !live?.env ? 'provisioning' : row.status,
      labId,
      expiresAt: row.status === 'ready' ? row.expiresAt : undefined,
      message: live?.lastProgress?.message ?? row.message,
      dataPlane: live?.env?.dataPlane,
      canExtend: row.status === 'ready' && remaining < this.limits.warnBeforeMs && row.createdAt + this.limits.maxLifetimeMs > row.expiresAt,
      reportsChanges: live?.env ? live.env.onChange !== undefined : undefined,
    };
  }

  find(learnerId: string, labId: string): Live | undefined {
    for (const l of this.live.values()) if (l.row.learnerId === learnerId && l.row.labId === labId) return l;
    return undefined;
  }

  /** The ready environment (and its grader) of a learner, or a 409 saying why not. */
  async ready(learnerId: string, labId: string): Promise<{ env: Environment; grader: StepGrader; row: EnvironmentRow }> {
    const live = this.find(learnerId, labId);
    if (!live) throw new HttpError(409, 'start the lab first: you have no environment for it');
    await live.ready;
    if (!live.env || !live.grader) throw new HttpError(409, live.row.message ?? 'your environment is not ready');
    return { env: live.env, grader: live.grader, row: live.row };
  }

  /** Start (or return) the learner's environment for a lab. */
  ensure(learner: LearnerRow, labId: string, objects?: KubeObject[]): EnvironmentView {
    const existing = this.find(learner.id, labId);
    if (existing) return this.view(learner.id, labId);
    const lab = this.coursework.get(labId);
    if (!lab) throw new HttpError(404, `no lab "${labId}"`);
    if (this.live.size >= this.limits.max) {
      throw new HttpError(503, `This server is full: ${this.limits.max} environments are running. Try again in a few minutes, or ask your instructor.`);
    }
    const previous = this.store.latestEnvironment(learner.id, labId);
    const restore = objects ?? (previous?.objects as KubeObject[] | undefined);
    const now = Date.now();
    const row: EnvironmentRow = { id: newId(), learnerId: learner.id, labId, backend: this.backend.name, status: 'provisioning', createdAt: now, expiresAt: now + this.limits.ttlMs };
    this.store.createEnvironment(row);
    const abort = new AbortController();
    const live: Live = { row, abort, ready: Promise.resolve(), lastActive: now, version: 0, lastChangeEvent: 0 };
    this.live.set(row.id, live);
    live.ready = this.provision(live, learner, restore);
    this.emit(learner.id, { type: 'environment', environment: this.view(learner.id, labId) });
    return this.view(learner.id, labId);
  }

  private async provision(live: Live, learner: LearnerRow, restore: KubeObject[] | undefined): Promise<void> {
    const { row } = live;
    const lab = this.coursework.get(row.labId);
    const started = Date.now();
    try {
      if (!lab) throw new Error(`lab ${row.labId} is gone`);
      const env = await this.backend.provision({
        learner: { id: learner.id, name: learner.name },
        lab: lab.environment,
        signal: live.abort.signal,
        onProgress: (p) => {
          live.lastProgress = p;
          this.emit(row.learnerId, { type: 'progress', progress: p });
        },
      });
      if (live.abort.signal.aborted || !this.live.has(row.id)) {
        await env.dispose();
        return;
      }
      live.env = env;
      live.grader = this.coursework.grader(row.labId, env);
      if (restore && restore.length) {
        this.emit(row.learnerId, { type: 'progress', progress: { phase: 'restoring', message: `Restoring ${restore.length} objects you made` } });
        const problems = await applyObjects(env.kubeconfig, restore);
        for (const p of problems) this.log.warn({ env: row.id, problem: p }, 'could not restore an object');
      }
      // What the learner makes is saved moments after they make it, so a crash loses seconds, not minutes.
      live.stopWatching = env.onChange?.((resource) => {
        live.version++;
        if (savedResources.has(resource)) this.saveSoon(live);
        if (mapResources.has(resource)) this.announceChange(live);
      });
      // the clock starts when the learner can work
      row.expiresAt = Date.now() + this.limits.ttlMs;
      row.status = 'ready';
      row.message = undefined;
      this.store.updateEnvironment(row.id, { status: 'ready', expiresAt: row.expiresAt, message: '' });
      this.log.info({ env: row.id, lab: row.labId, ms: Date.now() - started, dataPlane: env.dataPlane }, 'environment ready');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      row.status = 'failed';
      row.message = `Your environment could not start: ${message}`;
      this.store.updateEnvironment(row.id, { status: 'failed', message: row.message });
      this.live.delete(row.id);
      this.log.error({ env: row.id, err: message }, 'provisioning failed');
    }
    this.emit(row.learnerId, { type: 'environment', environment: this.view(row.learnerId, row.labId) });
  }

  /** The learner is at work in this lab: typed in its terminal, or checked, asked for a hint, answered... */
  touch(learnerId: string, labId: string): void {
    const live = this.find(learnerId, labId);
    if (live) live.lastActive = Date.now();
  }

  /** Changes reported for the learner's cluster so far (0 where the backend does not report them). */
  version(learnerId: string, labId: string): number {
    return this.find(learnerId, labId)?.version ?? 0;
  }

  /**
   * Push the deadline out by one TTL from now, within the maximum lifetime, for a learner who is
   * at work: an open tab alone (or a script pressing the button) must not keep a cluster forever.
   */
  extend(learnerId: string, labId: string): EnvironmentView {
    const live = this.find(learnerId, labId);
    if (!live || live.row.status !== 'ready') throw new HttpError(409, 'there is no running environment to extend');
    const now = Date.now();
    if (now - live.lastActive > this.limits.activeWithinMs) {
      throw new HttpError(409, `Not extended: nothing was typed in your terminal or done in this lab for ${duration(this.limits.activeWithinMs)}. Carry on working, then extend.`);
    }
    const cap = live.row.createdAt + this.limits.maxLifetimeMs;
    if (live.row.expiresAt >= cap) {
      throw new HttpError(409, `Not extended: an environment lives at most ${duration(this.limits.maxLifetimeMs)}. When it ends, start it again: your objects and progress are kept.`);
    }
    live.row.expiresAt = Math.min(cap, now + this.limits.ttlMs);
    this.store.updateEnvironment(live.row.id, { expiresAt: live.row.expiresAt });
    const view = this.view(learnerId, labId);
    this.emit(learnerId, { type: 'environment', environment: view });
    return view;
  }

  /** Tell the learner's browsers the cluster changed: once now, then at most once per period (the last change always gets its event). */
  private announceChange(live: Live): void {
    if (live.changeTimer || !this.live.has(live.row.id)) return;
    const send = () => {
      live.changeTimer = undefined;
      live.lastChangeEvent = Date.now();
      if (this.live.has(live.row.id)) this.emit(live.row.learnerId, { type: 'cluster-changed', labId: live.row.labId });
    };
    const wait = live.lastChangeEvent + this.limits.changeEventEveryMs - Date.now();
    if (wait <= 0) return send();
    live.changeTimer = setTimeout(send, wait);
    live.changeTimer.unref();
  }

  /**
   * Save once the cluster has been quiet for a moment (changes come in bursts: an apply, a
   * rollout), but never later than a few quiet periods after the first unsaved change, so a
   * cluster that keeps changing (a crash-looping pod) is still saved.
   */
  private saveSoon(live: Live): void {
    if (!this.live.has(live.row.id)) return;
    const now = Date.now();
    live.firstUnsaved ??= now;
    clearTimeout(live.saveTimer);
    const wait = Math.max(0, Math.min(this.limits.saveAfterChangeMs, live.firstUnsaved + 8 * this.limits.saveAfterChangeMs - now));
    live.saveTimer = setTimeout(() => {
      live.firstUnsaved = undefined;
      void this.save(live);
    }, wait);
    live.saveTimer.unref();
  }

  /** Save the learner's objects now (after a change, a check, periodically, at shutdown). */
  async save(live: Live): Promise<void> {
    if (!live.env) return;
    if (live.saving) {
      // what changed during this save may be missing from it
      live.dirty = true;
      return live.saving;
    }
    live.dirty = false;
    live.saving = (async () => {
      try {
        const objects = await readLearnerObjects(live.env!.kubeconfig);
        this.store.saveObjects(live.row.id, objects);
      } catch (err) {
        this.log.warn({ env: live.row.id, err: err instanceof Error ? err.message : String(err) }, 'could not save the learner objects');
      } finally {
        live.saving = undefined;
      }
      if (live.dirty && this.live.has(live.row.id)) await this.save(live);
    })();
    return live.saving;
  }

  async saveFor(learnerId: string, labId: string): Promise<void> {
    const live = this.find(learnerId, labId);
    if (live) await this.save(live);
  }

  /** End an environment (expired, reset by the learner, or at shutdown when `keep` is set). */
  async end(envId: string, status: 'expired' | 'disposed', keepForRestart = false): Promise<void> {
    const live = this.live.get(envId);
    if (!live) return;
    this.live.delete(envId);
    live.stopWatching?.();
    clearTimeout(live.saveTimer);
    clearTimeout(live.changeTimer);
    live.abort.abort();
    if (!keepForRestart) {
      live.row.status = status;
      this.store.updateEnvironment(envId, { status, message: status === 'expired' ? 'Your environment expired. Start it again to continue where you were.' : '' });
    }
    this.onEnded(envId, live.row.learnerId);
    try {
      await live.grader?.close();
      await live.env?.dispose();
    } catch (err) {
      this.log.warn({ env: envId, err: err instanceof Error ? err.message : String(err) }, 'dispose failed');
    }
    if (!keepForRestart) this.emit(live.row.learnerId, { type: 'environment', environment: this.view(live.row.learnerId, live.row.labId) });
  }

  /** After a restart: bring back every environment that was running, with its saved objects. */
  recreate(): number {
    let n = 0;
    for (const row of this.store.liveEnvironments()) {
      this.store.updateEnvironment(row.id, { status: 'disposed' });
      const learner = this.store.getLearner(row.learnerId);
      if (!learner || row.expiresAt < Date.now() || !this.coursework.get(row.labId)) continue;
      try {
        this.ensure(learner, row.labId, row.objects as KubeObject[] | undefined);
        n++;
      } catch (err) {
        this.log.warn({ env: row.id, err: err instanceof Error ? err.message : String(err) }, 'could not recreate');
      }
    }
    return n;
  }

  envIdFor(learnerId: string, labId: string): string | undefined {
    return this.find(learnerId, labId)?.row.id;
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    for (const live of [...this.live.values()]) {
      if (live.row.status === 'ready' && live.row.expiresAt <= now) {
        this.log.info({ env: live.row.id }, 'environment expired');
        await this.end(live.row.id, 'expired');
      }
    }
    if (now - this.lastSave >= this.limits.saveEveryMs) {
      this.lastSave = now;
      for (const live of this.live.values()) void this.save(live);
    }
  }

  /** Stop every environment; with `keepForRestart` they come back at the next start. */
  async close(keepForRestart: boolean): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (keepForRestart) await Promise.all([...this.live.values()].map((l) => this.save(l)));
    await Promise.all([...this.live.keys()].map((id) => this.end(id, 'disposed', keepForRestart)));
    await this.backend.close();
  }
}

/** "1 minute", "15 minutes", "4 hours" */
function duration(ms: number): string {
  const m = Math.max(1, Math.round(ms / 60_000));
  if (m % 60 === 0) return `${m / 60} hour${m === 60 ? '' : 's'}`;
  return `${m} minute${m === 1 ? '' : 's'}`;
}
