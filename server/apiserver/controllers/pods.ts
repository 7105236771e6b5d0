// What the scheduler and the kubelet do for pods: bind to the one node, start the sandbox through
// the runtime, report Pending → ContainerCreating → Running and Ready with the IPs the runtime
// gave, record the kubelet's events, turn container exits into Succeeded/Failed or restarts per
// restartPolicy, and stop then remove pods that are being deleted.
import { randomBytes } from 'node:crypto';
import { rfc3339 } from '../duration.ts';
import type { ContainerRef, KubeObject } from '../runtime.ts';
import { thaw } from '../store.ts';
import { referenceTo } from './events.ts';
import { keyOf, splitKey, type Controller, type ControllerHost } from './host.ts';
import { WorkQueue } from './queue.ts';

type Json = any;

interface ContainerRun {
  restartCount: number;
  startedAt: string;
  containerID: string;
  exit?: { code: number; at: string };
  last?: { code: number; startedAt: string; finishedAt: string; containerID: string };
  /** epoch ms until which a crashed container waits before restarting */
  backoffUntil?: number;
  backoffMs?: number;
}

interface PodRun {
  uid: string;
  state: 'starting' | 'running' | 'failed-start' | 'stopping' | 'stopped';
  podIP?: string;
  hostIP?: string;
  startTime: string;
  containers: Map<string, ContainerRun>;
  startError?: string;
  retryTimer?: NodeJS.Timeout;
  /** exits reported before startPod resolved (a main process that ends at once) */
  earlyExits: Map<string, { code: number; at: string }>;
}

const KUBELET = 'kubelet';

/** How containerd reports an image reference: registry and tag made explicit. */
export function normalizeImage(image: string): string {
  let ref = image;
  const firstSlash = ref.indexOf('/');
  const first = firstSlash < 0 ? '' : ref.slice(0, firstSlash);
  if (firstSlash < 0) ref = `docker.io/library/${ref}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') ref = `docker.io/${ref}`;
  const lastSlash = ref.lastIndexOf('/');
  if (!ref.includes('@') && !ref.slice(lastSlash + 1).includes(':')) ref += ':latest';
  return ref;
}

function containerID(): string {
  return `containerd://${randomBytes(32).toString('hex')}`;
}

function condition(type: string, status: boolean, at: string, previous: Json[] | undefined, reason?: string, message?: string): Json {
  const prev = previous?.find((c) => c.type === type);
  const s = status ? 'True' : 'False';
  const c: Json = { type, status: s, lastProbeTime: null, lastTransitionTime: prev && prev.status === s ? prev.lastTransitionTime : at };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

export class PodLifecycle implements Controller {
  private readonly runs = new Map<string, PodRun>();
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;
  private disposed = false;

  constructor(private readonly host: ControllerHost) {
    this.queue = new WorkQueue(
      (key) => this.reconcile(key),
      (key, err) => host.onError('pods', key, err),
    );
    this.unsubscribe = host.store.subscribe((e) => {
      if (e.resource === 'pods') this.queue.add(keyOf(e.object));
      // a relabelled node may now fit pods waiting for it
      else if (e.resource === 'nodes') for (const p of host.store.list('pods')) if (!(p.spec as Json)?.nodeName) this.queue.add(keyOf(p));
    });
    for (const p of host.store.list('pods')) this.queue.add(keyOf(p));
  }

  /** Called once the runtime is attached: pods created before it can start now. */
  runtimeReady(): void {
    for (const p of this.host.store.list('pods')) this.queue.add(keyOf(p));
  }

  /** RuntimeHooks.containerExited */
  containerExited(ref: ContainerRef, exitCode: number): void {
    const key = `${ref.namespace}/${ref.pod}`;
    const run = this.runs.get(key);
    if (!run) return;
    if (run.state === 'starting') {
      run.earlyExits.set(ref.container, { code: exitCode, at: rfc3339(this.host.now()) });
      return;
    }
    if (run.state !== 'running') return;
    const c = run.containers.get(ref.container);
    if (!c || c.exit) return;
    c.exit = { code: exitCode, at: rfc3339(this.host.now()) };
    this.host.logs.end(ref.namespace, ref.pod, ref.container);
    this.queue.add(key);
  }

  get busy(): boolean {
    return this.queue.busy;
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  dispose(): void {
    this.disposed = true;
    this.unsubscribe();
    this.queue.dispose();
    for (const run of this.runs.values()) if (run.retryTimer) clearTimeout(run.retryTimer);
  }

  private source() {
    return { component: KUBELET, host: this.host.network.nodeName };
  }

  private async reconcile(key: string): Promise<void> {
    const [namespace, name] = splitKey(key);
    const pod = this.host.store.get('pods', namespace, name) as Json;
    const run = this.runs.get(key);
    if (!pod || (run && run.uid !== pod.metadata.uid)) {
      if (run) await this.stop(key, run, namespace as string, name);
      if (!pod) {
        this.host.logs.removePod(namespace as string, name);
        return;
      }
    }
    const spec = pod.spec ?? {};
    if (!spec.nodeName) {
      if (!pod.metadata.deletionTimestamp) this.schedule(pod);
      return;
    }
    if (spec.nodeName !== this.host.network.nodeName) return;
    const current = this.runs.get(key);
    if (pod.metadata.deletionTimestamp) {
      await this.terminate(key, pod, current);
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      if (current && current.state !== 'stopped') await this.stop(key, current, namespace as string, name);
      return;
    }
    const runtime = this.host.runtime();
    if (!runtime) return;
    if (!current) {
      this.start(key, pod);
      return;
    }
    if (current.state === 'running') this.reportRunning(key, pod, current);
  }

  private schedule(pod: Json): void {
    const at = rfc3339(this.host.now());
    const node = this.host.store.get('nodes', undefined, this.host.network.nodeName);
    const selector: Record<string, string> = pod.spec?.nodeSelector ?? {};
    const nodeLabels: Record<string, string> = node?.metadata.labels ?? {};
    if (Object.entries(selector).some(([k, v]) => nodeLabels[k] !== v)) {
      // the one node does not fit: Pending, as the scheduler leaves it
      const message = "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
      const prev = (pod.status?.conditions ?? []).find((c: Json) => c.type === 'PodScheduled');
      if (prev?.reason === 'Unschedulable') return;
      const next = thaw(pod);
      next.status = { ...(next.status ?? {}), phase: 'Pending', conditions: [{ ...condition('PodScheduled', false, at, pod.status?.conditions, 'Unschedulable', message) }] };
      const stored = this.host.store.update('pods', next);
      this.host.recorder.record(referenceTo(stored), 'Warning', 'FailedScheduling', message, { component: 'default-scheduler' });
      return;
    }
    const next = thaw(pod);
    next.spec.nodeName = this.host.network.nodeName;
    next.status = next.status ?? {};
    next.status.phase = 'Pending';
    next.status.conditions = [condition('PodScheduled', true, at, pod.status?.conditions)];
    const stored = this.host.store.update('pods', next);
    this.host.recorder.record(referenceTo(stored), 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${this.host.network.nodeName}`, {
      component: 'default-scheduler',
    });
  }

  private start(key: string, pod: Json): void {
    const runtime = this.host.runtime();
    if (!runtime) return;
    const at = rfc3339(this.host.now());
    const run: PodRun = { uid: pod.metadata.uid, state: 'starting', startTime: pod.status?.startTime ?? at, containers: new Map(), earlyExits: new Map() };
    this.runs.set(key, run);
    const containers: Json[] = pod.spec.containers ?? [];
    // ContainerCreating: what `kubectl get pods` shows while the sandbox comes up
    const next = thaw(pod);
    const conds = pod.status?.conditions;
    next.status = {
      ...(next.status ?? {}),
      phase: 'Pending',
      startTime: run.startTime,
      conditions: [
        condition('PodReadyToStartContainers', false, at, conds),
        condition('Initialized', true, at, conds),
        condition('Ready', false, at, conds, 'ContainersNotReady', `containers with unready status: [${containers.map((c) => c.name).join(' ')}]`),
        condition('ContainersReady', false, at, conds, 'ContainersNotReady', `containers with unready status: [${containers.map((c) => c.name).join(' ')}]`),
        condition('PodScheduled', true, at, conds),
      ],
      containerStatuses: containers.map((c) => ({
        image: c.image,
        imageID: '',
        lastState: {},
        name: c.name,
        ready: false,
        restartCount: 0,
        started: false,
        state: { waiting: { reason: 'ContainerCreating' } },
      })),
    };
    const stored = this.host.store.update('pods', next);
    const began = Date.now();
    runtime.startPod(stored).then(
      (started) => {
        if (this.disposed) return;
        if (this.runs.get(key) !== run || run.state !== 'starting') {
          // deleted while its sandbox was coming up: take the late sandbox down again
          if (!this.runs.has(key) || this.runs.get(key) === run) runtime.stopPod(pod.metadata.namespace, pod.metadata.name).catch((err: unknown) => this.host.onError('pods', key, err));
          return;
        }
        run.podIP = started.podIP;
        run.hostIP = started.hostIP;
        if (started.hostIP) this.host.onHostIP(started.hostIP);
        const startedAt = rfc3339(this.host.now());
        const current = this.host.store.get('pods', pod.metadata.namespace, pod.metadata.name);
        const ms = Date.now() - began;
        for (const c of containers) {
          const cr: ContainerRun = { restartCount: 0, startedAt, containerID: containerID() };
          const early = run.earlyExits.get(c.name);
          if (early) {
            cr.exit = early;
            this.host.logs.end(pod.metadata.namespace, pod.metadata.name, c.name);
          }
          run.containers.set(c.name, cr);
          if (current) this.recordStartEvents(current, c, ms);
        }
        run.earlyExits.clear();
        run.state = 'running';
        this.queue.add(key);
      },
      (err: unknown) => {
        if (this.disposed || this.runs.get(key) !== run) return;
        run.state = 'failed-start';
        run.startError = err instanceof Error ? err.message : String(err);
        const current = this.host.store.get('pods', pod.metadata.namespace, pod.metadata.name);
        if (current) this.host.recorder.record(referenceTo(current), 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${run.startError}`, this.source());
        // like the kubelet, try again later
        run.retryTimer = setTimeout(() => {
          if (this.runs.get(key) === run) {
            this.runs.delete(key);
            this.queue.add(key);
          }
        }, 5000);
      },
    );
  }

  private recordStartEvents(pod: KubeObject, c: Json, ms: number): void {
    const ref = referenceTo(pod, `spec.containers{${c.name}}`);
    const src = this.source();
    if (c.imagePullPolicy === 'Always') {
      const took = ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(3)}s`;
      this.host.recorder.record(ref, 'Normal', 'Pulling', `Pulling image "${c.image}"`, src);
      this.host.recorder.record(ref, 'Normal', 'Pulled', `Successfully pulled image "${c.image}" in ${took} (${took} including waiting)`, src);
    } else {
      this.host.recorder.record(ref, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, src);
    }
    this.host.recorder.record(ref, 'Normal', 'Created', `Created container ${c.name}`, src);
    this.host.recorder.record(ref, 'Normal', 'Started', `Started container ${c.name}`, src);
  }

  /** Write the status the run implies (and restart containers per restartPolicy). */
  private reportRunning(key: string, pod: Json, run: PodRun): void {
    const at = rfc3339(this.host.now());
    const policy: string = pod.spec.restartPolicy ?? 'Always';
    const containers: Json[] = pod.spec.containers ?? [];
    const statuses: Json[] = [];
    let running = 0;
    let waiting = 0;
    let failed = 0;
    for (const c of containers) {
      const cr = run.containers.get(c.name);
      if (!cr) continue;
      if (cr.exit && cr.backoffUntil === undefined) {
        const restart = policy === 'Always' || (policy === 'OnFailure' && cr.exit.code !== 0);
        if (restart) this.scheduleRestart(key, pod, run, c.name, cr);
      }
      const st: Json = { containerID: cr.containerID, image: normalizeImage(String(c.image)), imageID: normalizeImage(String(c.image)), lastState: {}, name: c.name, ready: false, restartCount: cr.restartCount, started: false, state: {} };
      if (cr.last) {
        st.lastState = { terminated: { containerID: cr.last.containerID, exitCode: cr.last.code, finishedAt: cr.last.finishedAt, reason: cr.last.code === 0 ? 'Completed' : 'Error', startedAt: cr.last.startedAt } };
      }
      if (cr.exit && cr.backoffUntil !== undefined) {
        // a restart is pending: the pod keeps running while the container waits for it
        st.state = { waiting: { message: `back-off ${Math.round((cr.backoffMs ?? 10000) / 1000)}s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`, reason: 'CrashLoopBackOff' } };
        st.lastState = { terminated: { containerID: cr.containerID, exitCode: cr.exit.code, finishedAt: cr.exit.at, reason: cr.exit.code === 0 ? 'Completed' : 'Error', startedAt: cr.startedAt } };
        waiting++;
      } else if (cr.exit) {
        st.state = { terminated: { containerID: cr.containerID, exitCode: cr.exit.code, finishedAt: cr.exit.at, reason: cr.exit.code === 0 ? 'Completed' : 'Error', startedAt: cr.startedAt } };
        if (cr.exit.code !== 0) failed++;
      } else {
        st.state = { running: { startedAt: cr.startedAt } };
        st.ready = true;
        st.started = true;
        running++;
      }
      statuses.push(st);
    }
    const allTerminated = running === 0 && waiting === 0 && statuses.length === containers.length;
    const phase = allTerminated ? (failed > 0 ? 'Failed' : 'Succeeded') : 'Running';
    const containersReady = phase === 'Running' && running === containers.length;
    const conds = pod.status?.conditions;
    // readiness gates (kubelet's GeneratePodReadyCondition): Ready also waits for each gate's condition
    const gates: string[] = (pod.spec.readinessGates ?? []).map((g: Json) => String(g.conditionType));
    const unmetGate = gates.find((g) => !(conds ?? []).some((c: Json) => c.type === g && c.status === 'True'));
    const ready = containersReady && unmetGate === undefined;
    const notReady = containers.filter((c) => !statuses.find((s) => s.name === c.name)?.ready).map((c) => c.name);
    const done = phase === 'Succeeded' ? 'PodCompleted' : phase === 'Failed' ? 'PodFailed' : undefined;
    const gateMessage = unmetGate && !(conds ?? []).some((c: Json) => c.type === unmetGate) ? `corresponding condition of pod readiness gate "${unmetGate}" does not exist.` : `the status of pod readiness gate "${unmetGate}" is not "True"`;
    const managed = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
    const next = thaw(pod);
    next.status = {
      ...(next.status ?? {}),
      phase,
      hostIP: run.hostIP,
      hostIPs: run.hostIP ? [{ ip: run.hostIP }] : undefined,
      podIP: run.podIP,
      podIPs: run.podIP ? [{ ip: run.podIP }] : undefined,
      startTime: run.startTime,
      conditions: [
        condition('PodReadyToStartContainers', !allTerminated, at, conds),
        condition('Initialized', true, at, conds, done),
        containersReady && !ready
          ? condition('Ready', false, at, conds, 'ReadinessGatesNotReady', gateMessage)
          : condition('Ready', ready, at, conds, done ?? (ready ? undefined : 'ContainersNotReady'), done || ready ? undefined : `containers with unready status: [${notReady.join(' ')}]`),
        condition('ContainersReady', containersReady, at, conds, done ?? (containersReady ? undefined : 'ContainersNotReady'), done || containersReady ? undefined : `containers with unready status: [${notReady.join(' ')}]`),
        condition('PodScheduled', true, at, conds),
        // conditions others own (a readiness gate's) are kept
        ...(conds ?? []).filter((c: Json) => !managed.has(c.type)),
      ],
      containerStatuses: statuses,
    };
    for (const k of ['hostIP', 'hostIPs', 'podIP', 'podIPs']) if (next.status[k] === undefined) delete next.status[k];
    if (JSON.stringify(next.status) !== JSON.stringify(pod.status)) this.host.store.update('pods', next);
  }

  private scheduleRestart(key: string, pod: Json, run: PodRun, container: string, cr: ContainerRun): void {
    const runtime = this.host.runtime();
    const ref: ContainerRef = { namespace: pod.metadata.namespace, pod: pod.metadata.name, container };
    const delay = cr.backoffMs === undefined ? 0 : cr.backoffMs;
    cr.backoffMs = Math.min(300_000, cr.backoffMs === undefined ? 10_000 : cr.backoffMs * 2);
    const single = (pod.spec.containers ?? []).length === 1;
    const restart = runtime?.restartContainer
      ? () => runtime.restartContainer!(ref)
      : runtime && single
        ? () => this.restartSandbox(key, run, pod)
        : undefined;
    if (!restart) {
      // nothing can run it again: it stays in CrashLoopBackOff
      cr.backoffUntil = Number.MAX_SAFE_INTEGER;
      this.host.recorder.record(referenceTo(pod, `spec.containers{${container}}`), 'Warning', 'BackOff', `Back-off restarting failed container ${container} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`, this.source());
      return;
    }
    cr.backoffUntil = this.host.now() + delay;
    if (delay > 0) {
      this.host.recorder.record(referenceTo(pod, `spec.containers{${container}}`), 'Warning', 'BackOff', `Back-off restarting failed container ${container} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`, this.source());
    }
    setTimeout(() => {
      if (this.disposed || this.runs.get(key) !== run || run.state !== 'running') return;
      // what the old instance printed is `kubectl logs --previous` from now on
      this.host.logs.rotate(ref.namespace, ref.pod, container);
      restart().then(
        () => {
          if (this.runs.get(key) !== run || !cr.exit) return;
          cr.last = { code: cr.exit.code, startedAt: cr.startedAt, finishedAt: cr.exit.at, containerID: cr.containerID };
          cr.exit = undefined;
          cr.backoffUntil = undefined;
          cr.restartCount++;
          cr.startedAt = rfc3339(this.host.now());
          cr.containerID = containerID();
          // the new process may already have ended while its sandbox came up
          const early = run.earlyExits.get(container);
          if (early) {
            cr.exit = early;
            run.earlyExits.delete(container);
          }
          const current = this.host.store.get('pods', ref.namespace, ref.pod);
          if (current) {
            const r = referenceTo(current, `spec.containers{${container}}`);
            this.host.recorder.record(r, 'Normal', 'Created', `Created container ${container}`, this.source());
            this.host.recorder.record(r, 'Normal', 'Started', `Started container ${container}`, this.source());
          }
          this.queue.add(key);
        },
        (err: unknown) => {
          // a pod deleted while it restarted is not an error
          if (this.runs.get(key) === run && run.state !== 'stopping' && run.state !== 'stopped') this.host.onError('pods', key, err);
        },
      );
    }, delay);
    this.queue.add(key);
  }

  /**
   * A container restart for runtimes without restartContainer: the one-container pod's sandbox is
   * made again, which runs its main process anew (exits meanwhile are kept like at first start).
   */
  private async restartSandbox(key: string, run: PodRun, pod: Json): Promise<void> {
    const runtime = this.host.runtime();
    if (!runtime) throw new Error('no runtime');
    const { namespace, name } = pod.metadata;
    run.state = 'starting';
    await runtime.stopPod(namespace, name);
    const current = this.host.store.get('pods', namespace, name);
    if (run.state !== 'starting' || !current || current.metadata.uid !== run.uid || current.metadata.deletionTimestamp) {
      throw new Error(`pod ${key} went away while restarting`);
    }
    const started = await runtime.startPod(current);
    if (run.state !== 'starting' || this.runs.get(key) !== run) {
      await runtime.stopPod(namespace, name);
      throw new Error(`pod ${key} went away while restarting`);
    }
    run.podIP = started.podIP;
    run.hostIP = started.hostIP;
    run.state = 'running';
  }

  private async terminate(key: string, pod: Json, run: PodRun | undefined): Promise<void> {
    if (run && run.state !== 'stopped') {
      if (run.state === 'running') {
        for (const c of pod.spec.containers ?? []) {
          const cr = run.containers.get(c.name);
          if (cr && !cr.exit) this.host.recorder.record(referenceTo(pod, `spec.containers{${c.name}}`), 'Normal', 'Killing', `Stopping container ${c.name}`, this.source());
        }
      }
      await this.stop(key, run, pod.metadata.namespace, pod.metadata.name);
    }
    const current = this.host.store.get('pods', pod.metadata.namespace, pod.metadata.name);
    if (current && current.metadata.uid === pod.metadata.uid) {
      this.host.objects.remove('pods', pod.metadata.namespace, pod.metadata.name);
    }
    this.runs.delete(key);
  }

  private async stop(key: string, run: PodRun, namespace: string, name: string): Promise<void> {
    if (run.retryTimer) clearTimeout(run.retryTimer);
    const wasStarted = run.state !== 'stopped';
    run.state = 'stopping';
    const runtime = this.host.runtime();
    if (runtime && wasStarted) {
      try {
        await runtime.stopPod(namespace, name);
      } catch (err) {
        this.host.onError('pods', key, err);
      }
    }
    run.state = 'stopped';
    for (const c of run.containers.keys()) this.host.logs.end(namespace, name, c);
    if (this.runs.get(key) === run) {
      const pod = this.host.store.get('pods', namespace, name);
      if (!pod || pod.metadata.uid !== run.uid) this.runs.delete(key);
    }
  }
}
