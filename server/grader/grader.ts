// The grader of one learner's environment: runs a step's checks against their cluster through
// the Kubernetes API only (so the same code grades the embedded cluster and kind+Calico),
// explains every probe with the policy engine, and changes the cluster for step setup,
// solutions and resets.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CheckResult, GradeProgress, StepOutcome, StepResult } from '../../shared/lab.ts';
import type { ClusterSnapshot, NetworkPolicy } from '../netpol/index.ts';
import type { Check, Lab, ProbeCheck, Step } from '../labs/types.ts';
import { applyManifests, deleteObjects, revertChanges, runKubectl, waitForWorkloads, type AppliedChange } from './apply.ts';
import { ClusterChanges } from './changes.ts';
import { execInPod } from './exec.ts';
import { WarmExecs } from './warm-exec.ts';
import { scriptExecutor, sequentialExecutor } from './executor.ts';
import { judgeProbe } from './judge.ts';
import { KubeClient } from './kube.ts';
import { Predictor } from './predict.ts';
import { isRunning, podIP, proberName, Probers, ProbeSourceError, sleep } from './probers.ts';
import { existingSource, proberSource, ProbeTargetError, runProbe, type ProbeRun, type RunInPod, type SourcePod } from './probe.ts';
import { checkResource } from './resource.ts';
import { readClusterView, withoutProbers, type ClusterView } from './view.ts';

/** What the grader needs of an environment (server/backends Environment has all of it). */
export interface GraderEnvironment {
  kubeconfig: string;
  kubeconfigPath?: string;
  shellEnv?: Record<string, string>;
  /** resolves once what was committed so far is enforced (embedded clusters have it) */
  settle?: () => Promise<void>;
}

export interface GraderOptions {
  /** overrides env.settle */
  settle?: () => Promise<void>;
  /** image of the prober pods (a pinned netshoot tag by default) */
  proberImage?: string;
  /** resource checks (and, with `sequential`, probes) run at once (default 16); the probes from one pod share one exec and all start together */
  concurrency?: number;
  /** no change for this long means the learner is done changing things (default 300 ms) */
  quietMs?: number;
  /** never wait longer than this for quiet (default 5 s) */
  maxSettleMs?: number;
  /** pause before re-running a mismatched probe (default 250 ms) */
  retryDelayMs?: number;
  proberReadyTimeoutMs?: number;
  /** kubectl binary for solution commands (default: kubectl on PATH) */
  kubectl?: string;
  /** how a command runs in a pod; default the Kubernetes exec API */
  runInPod?: RunInPod;
  /** one exec per probe tool instead of one per source pod and grading (for images without a shell) */
  sequential?: boolean;
  /** where each grading's phase timings go (debug level); pino's Logger fits */
  log?: GraderLog;
}

/** The part of a structured logger the grader writes to. */
export interface GraderLog {
  debug(fields: Record<string, unknown>, message: string): void;
}

export interface GradeOptions {
  signal?: AbortSignal;
  onProgress?: (progress: GradeProgress) => void;
}

export interface Grader {
  /** Run a step's checks (and those of the steps it keeps); never throws for a failing cluster. */
  gradeStep(lab: Lab, stepId: string, options?: GradeOptions): Promise<StepResult>;
  /** Apply the step's solution (manifests, then commands); returns what it changed. */
  applySolution(lab: Lab, stepId: string, options?: { signal?: AbortSignal }): Promise<AppliedChange[]>;
  /** Make the changes a step makes when it begins (delete, then apply). */
  applyStepSetup(lab: Lab, stepId: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** Delete the objects the step's solution creates. */
  resetStep(lab: Lab, stepId: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** Apply one of the step's wrong solutions; returns a function that reverts it. */
  applyWrongSolution(lab: Lab, stepId: string, wrongId: string, options?: { signal?: AbortSignal }): Promise<() => Promise<void>>;
  /** The learner's cluster now, for the policy map: prober pods left out. */
  snapshot(): Promise<{ cluster: ClusterSnapshot; policies: NetworkPolicy[] }>;
  close(): Promise<void>;
}

export interface Graded {
  id: string;
  check: Check;
  run?: ProbeRun;
  result: CheckResult;
}

export function createGrader(env: GraderEnvironment, options: GraderOptions = {}): Grader {
  const client = new KubeClient(env.kubeconfig);
  const changes = new ClusterChanges(client);
  const probers = new Probers(client, { image: options.proberImage, readyTimeoutMs: options.proberReadyTimeoutMs });
  const settleHook = options.settle ?? env.settle;
  const concurrency = options.concurrency ?? 16;
  const quietMs = options.quietMs ?? 300;
  const maxSettleMs = options.maxSettleMs ?? 5000;
  const retryDelayMs = options.retryDelayMs ?? 250;
  const log = options.log;
  const warm = new WarmExecs(client.config);
  const execInto: RunInPod =
    options.runInPod ??
    ((source, cmd, signal) => {
      const limits = { timeoutMs: cmd.timeoutMs + 10_000, signal };
      // a prober's next script exec is started as soon as one ends; a learner's pod gets no waiting shell
      if (source.prober && cmd.stdin !== undefined) return warm.run(source, cmd.argv, cmd.stdin, limits);
      return execInPod(client.config, source, cmd.argv, { ...limits, stdin: cmd.stdin });
    });
  const runInPod: RunInPod = !log
    ? execInto
    : async (source, cmd, signal) => {
        const t0 = performance.now();
        try {
          return await execInto(source, cmd, signal);
        } finally {
          log.debug({ pod: `${source.namespace}/${source.pod}`, tool: cmd.tool, ms: Math.round(performance.now() - t0) }, 'probe exec');
        }
      };
  const executor = options.sequential ? sequentialExecutor(runInPod) : scriptExecutor(runInPod);
  let tempDir: string | undefined;
  const kubectlEnv = (): Record<string, string> => {
    let path = env.kubeconfigPath;
    if (!path) {
      tempDir ??= mkdtempSync(join(tmpdir(), 'kubelab-grader-'));
      path = join(tempDir, 'kubeconfig');
      writeFileSync(path, env.kubeconfig, { mode: 0o600 });
    }
    return { ...(env.shellEnv ?? {}), KUBECONFIG: path };
  };
  void changes.start().catch(() => {});

  const settle = async (signal?: AbortSignal) => {
    await changes.waitQuiet(quietMs, maxSettleMs, signal);
    if (settleHook) await settleHook();
  };

  async function sourceFor(check: ProbeCheck, view: ClusterView | undefined, signal?: AbortSignal): Promise<SourcePod> {
    if ('labels' in check.from) return proberSource(await probers.ensure(check.from.namespace, check.from.labels, signal));
    if (!view) throw new Error('no snapshot');
    return existingSource(check, view);
  }

  /** The prober source of each probe check that asks for one: one prober per namespace and labels. */
  async function proberSources(items: Array<{ id: string; check: Check }>, view: ClusterView, signal?: AbortSignal): Promise<Map<string, SourcePod | Error>> {
    const byProber = new Map<string, Promise<SourcePod | Error>>();
    const sources = new Map<string, SourcePod | Error>();
    await Promise.all(
      items.map(async ({ id, check }) => {
        if (check.type !== 'probe' || !('labels' in check.from)) return;
        const { namespace, labels } = check.from;
        const key = `${namespace}/${proberName(labels)}`;
        let source = byProber.get(key);
        if (!source) {
          source = probers.ensure(namespace, labels, signal, view.pods).then(proberSource, (err: unknown) => (err instanceof Error ? err : new Error(String(err))));
          byProber.set(key, source);
        }
        sources.set(id, await source);
      }),
    );
    return sources;
  }

  async function runChecks(items: Array<{ id: string; check: Check }>, view: ClusterView, predictor: Predictor, sources: Map<string, SourcePod | Error>, signal: AbortSignal | undefined, onDone: (g: Graded) => void): Promise<Graded[]> {
    const one = async ({ id, check }: { id: string; check: Check }): Promise<Graded> => {
      let g: Graded;
      if (check.type === 'resource') {
        try {
          const v = await checkResource(client, check, signal);
          g = { id, check, result: { id, title: check.title, kind: 'resource', status: v.status, message: v.message } };
        } catch (err) {
          g = { id, check, result: { id, title: check.title, kind: 'resource', status: 'error', message: `could not check: ${errorText(err)}` } };
        }
      } else {
        let source = sources.get(id);
        if (!source || (source instanceof Error && 'labels' in check.from === false)) {
          try {
            source = await sourceFor(check, view, signal);
          } catch (err) {
            source = err instanceof Error ? err : new Error(String(err));
          }
        }
        if (source instanceof Error) {
          const why = source instanceof ProbeSourceError || source instanceof ProbeTargetError ? source.message : errorText(source);
          g = { id, check, result: { id, title: check.title, kind: 'probe', status: 'error', message: `could not check: ${why}` } };
        } else {
          const run = await runProbe(check, source, view, predictor, executor, signal);
          g = { id, check, run, result: judgeProbe(id, check, run) };
        }
      }
      onDone(g);
      return g;
    };
    // the script executor runs a pod's probes in one exec: all of them must ask at once, or those
    // past the limit would wait for the first exec to end and then need another
    const gate = limiter(concurrency);
    return Promise.all(items.map((item) => (item.check.type === 'probe' && !options.sequential ? one(item) : gate(() => one(item)))));
  }

  const grader: Grader = {
    async gradeStep(lab, stepId, opts = {}) {
      const started = Date.now();
      const phases = phaseClock();
      const step = findStep(lab, stepId);
      const items = stepChecks(lab, step);
      const total = items.length;
      let done = 0;
      const progress = opts.onProgress ?? (() => {});
      progress({ done, total, phase: 'settling' });
      await settle(opts.signal);
      phases.mark('settle');
      let view = await readClusterView(client, opts.signal);
      phases.mark('view');
      // the probers must be in the snapshot the engine explains with: one made or restarted now means reading it again
      const sources = await proberSources(items, view, opts.signal);
      const inView = (s: SourcePod) => {
        const pod = view.pods.get(`${s.namespace}/${s.pod}`);
        return pod !== undefined && isRunning(pod) && podIP(pod) === s.ip;
      };
      if ([...sources.values()].some((s) => !(s instanceof Error) && !inView(s))) {
        view = await readClusterView(client, opts.signal);
      }
      let predictor = new Predictor(view);
      phases.mark('probers');
      progress({ done, total, phase: 'probing' });
      let graded = await runChecks(items, view, predictor, sources, opts.signal, (g) => progress({ done: ++done, total, check: g.result, phase: 'probing' }));
      phases.mark('checks');
      // A mismatch (or a probe that could not run) gets one more chance: the network may have been
      // catching up. Not traffic stopped just as the policies in the snapshot say (a drop or a
      // blocked lookup): the network already agrees with them, and another try would wait out
      // the same timeout for the same answer. A pass the snapshot's policies contradict (traffic
      // through that they forbid, or dropped where they allow it) is tried again too: a network
      // plugin still applying the learner's last change must not pass a check early.
      const again = graded.filter(needsSecondTry);
      if (again.length > 0 && !opts.signal?.aborted) {
        progress({ done, total, phase: 'retrying' });
        await sleep(retryDelayMs);
        await settle(opts.signal);
        view = await readClusterView(client, opts.signal);
        predictor = new Predictor(view);
        const retried = await runChecks(again, view, predictor, new Map([...sources].filter(([, s]) => !(s instanceof Error))), opts.signal, () => {});
        const byId = new Map(retried.map((g) => [g.id, g]));
        graded = graded.map((g) => {
          const r = byId.get(g.id);
          if (!r) return g;
          if (r.result.probe) r.result.probe.attempts = 2;
          return r;
        });
        phases.mark('retry');
      }
      progress({ done: total, total, phase: 'done' });
      const result = summarizeStep(lab, step, graded, started);
      log?.debug({ lab: lab.id, step: stepId, checks: total, retried: again.map((g) => g.id), outcome: result.outcome, ms: phases.done() }, 'graded step');
      return result;
    },

    async applySolution(lab, stepId, opts = {}) {
      const step = findStep(lab, stepId);
      if (!step.solution) throw new Error(`step ${stepId} has no solution`);
      const applied = await applyManifests(client, step.solution.apply, opts.signal);
      await waitForWorkloads(client, step.solution.apply.map((m) => m.object), 120_000, opts.signal);
      for (const line of step.solution.commands) {
        const r = await runKubectl(line, kubectlEnv(), { kubectl: options.kubectl, signal: opts.signal });
        if (r.exitCode !== 0) throw new Error(`solution command failed (exit ${r.exitCode}): ${line}\n${r.stderr.trim()}`);
      }
      return applied;
    },

    async applyStepSetup(lab, stepId, opts = {}) {
      const step = findStep(lab, stepId);
      await deleteObjects(client, step.setup.delete, opts.signal);
      await applyManifests(client, step.setup.apply, opts.signal);
      await waitForWorkloads(client, step.setup.apply.map((m) => m.object), 120_000, opts.signal);
    },

    async resetStep(lab, stepId, opts = {}) {
      const step = findStep(lab, stepId);
      const made = (step.solution?.apply ?? []).map((m) => m.object);
      await deleteObjects(
        client,
        [...made].reverse().map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name })),
        opts.signal,
      );
    },

    async applyWrongSolution(lab, stepId, wrongId, opts = {}) {
      const step = findStep(lab, stepId);
      const wrong = step.wrongSolutions.find((w) => w.id === wrongId);
      if (!wrong) throw new Error(`step ${stepId} has no wrong solution "${wrongId}"`);
      const applied = await applyManifests(client, wrong.apply, opts.signal);
      await waitForWorkloads(client, wrong.apply.map((m) => m.object), 120_000, opts.signal);
      for (const line of wrong.commands) {
        const r = await runKubectl(line, kubectlEnv(), { kubectl: options.kubectl, signal: opts.signal });
        if (r.exitCode !== 0) throw new Error(`wrong solution ${wrongId}: command failed (exit ${r.exitCode}): ${line}\n${r.stderr.trim()}`);
      }
      return async () => {
        for (const line of wrong.undo) {
          const r = await runKubectl(line, kubectlEnv(), { kubectl: options.kubectl });
          if (r.exitCode !== 0) throw new Error(`wrong solution ${wrongId}: undo failed (exit ${r.exitCode}): ${line}\n${r.stderr.trim()}`);
        }
        await revertChanges(client, applied);
      };
    },

    async snapshot() {
      return withoutProbers(await readClusterView(client));
    },

    async close() {
      warm.close();
      changes.close();
      client.close();
      probers.forget();
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    },
  };
  return grader;
}

/** A probe worth a second try: a mismatch the policies do not explain, or a pass they contradict. */
export function needsSecondTry(g: Graded): boolean {
  if (g.check.type !== 'probe') return false;
  if (g.result.status !== 'pass') return !g.run?.enforced;
  const run = g.run;
  return run !== undefined && (run.leaked || (run.result.predicted === 'allow' && run.result.observed === 'timeout'));
}

function findStep(lab: Lab, stepId: string): Step {
  const step = lab.steps.find((s) => s.id === stepId);
  if (!step) throw new Error(`lab ${lab.id} has no step "${stepId}"`);
  return step;
}

/** The step's own checks, then those of the steps it keeps (as `step/check`). */
export function stepChecks(lab: Lab, step: Step): Array<{ id: string; check: Check }> {
  const items = step.checks.map((c) => ({ id: c.id, check: c }));
  for (const k of step.keep) {
    const kept = lab.steps.find((s) => s.id === k);
    for (const c of kept?.checks ?? []) items.push({ id: `${k}/${c.id}`, check: c });
  }
  return items;
}

/** How many probes must disagree with the policies before the network, not the learner, is blamed. */
const disagreementThreshold = 2;

export function summarizeStep(lab: Lab, step: Step, graded: Graded[], started: number): StepResult {
  const checks = graded.map((g) => g.result);
  const failed = checks.filter((c) => c.status === 'fail');
  const errors = checks.filter((c) => c.status === 'error');
  const runs = graded.filter((g) => g.run);
  const leaks = runs.filter((g) => g.run!.leaked);
  const enforced = runs.filter((g) => g.run!.enforced);
  const dropped = runs.filter((g) => g.run!.prediction.verdict === 'allow' && g.run!.result.observed === 'timeout');
  const delivered = runs.filter((g) => g.run!.prediction.verdict === 'allow' && g.run!.result.observed === 'connected');
  let outcome: StepOutcome;
  let summary: string;
  let diagnosis: string | undefined;
  if (leaks.length >= disagreementThreshold && enforced.length === 0) {
    outcome = 'not-enforcing';
    const wouldPass = predictedPass(graded);
    summary =
      `Traffic your policies block went through on ${leaks.length} probes: this cluster's network plugin is not enforcing NetworkPolicy ` +
      `(a CNI such as Flannel accepts policies and ignores them), so the probes cannot prove your work. ` +
      (wouldPass ? 'On a network that enforces them, your policies would pass this step.' : 'Even on a network that enforces them, this step would not pass yet.');
  } else if (dropped.length >= disagreementThreshold && delivered.length === 0 && failed.every((c) => dropped.some((g) => g.result === c))) {
    outcome = 'could-not-check';
    summary = `The network dropped traffic your policies allow on ${dropped.length} probes, so it is not behaving as its policies say. This is not your fault; try again in a moment.`;
  } else if (failed.length > 0) {
    outcome = 'failed';
    summary = `${failed.length} of ${checks.length} check${checks.length === 1 ? '' : 's'} failed.`;
    const failedIds = new Set(failed.map((c) => c.id));
    const match = step.wrongSolutions.find((w) => w.fails.length === failedIds.size && w.fails.every((f) => failedIds.has(f)));
    if (match) diagnosis = match.why;
  } else if (errors.length > 0) {
    outcome = 'could-not-check';
    summary = `Could not run ${errors.length} check${errors.length === 1 ? '' : 's'} (${errors[0].message.replace(/^could not check: /, '')}). This is not your fault; try again.`;
  } else {
    outcome = 'passed';
    summary = `All ${checks.length} check${checks.length === 1 ? '' : 's'} passed.`;
  }
  return { labId: lab.id, stepId: step.id, outcome, summary, checks, diagnosis, at: Date.now(), durationMs: Date.now() - started };
}

/** Would every check pass if the network did what the policies say? */
function predictedPass(graded: Graded[]): boolean {
  return graded.every((g) => {
    if (!g.run) return g.result.status === 'pass';
    const predicted = g.run.prediction.outcome;
    return predicted === undefined ? g.result.status === 'pass' : predicted === g.run.result.expected;
  });
}

/** Milliseconds spent in each named phase of a grading, and in all of them. */
function phaseClock(): { mark(phase: string): void; done(): Record<string, number> } {
  const t0 = performance.now();
  let last = t0;
  const ms: Record<string, number> = {};
  return {
    mark(phase) {
      const now = performance.now();
      ms[phase] = Math.round(now - last);
      last = now;
    },
    done() {
      return { ...ms, total: Math.round(performance.now() - t0) };
    },
  };
}

/** Run at most `limit` of the functions given to it at once, the rest in the order given. */
function limiter(limit: number): <R>(fn: () => Promise<R>) => Promise<R> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (fn) => {
    // a finishing function hands its place straight to the next waiting one
    if (running >= limit) await new Promise<void>((r) => waiting.push(r));
    else running++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
