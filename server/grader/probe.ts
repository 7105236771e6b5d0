// Running one probe check: resolve its source pod and target, run the tools in the source pod
// (a bounded DNS lookup first for names, then the connection), classify what they printed, and
// ask the engine what the policies say about it.
import type { ExpectedOutcome, ProbeOutcome, ProbeResult } from '../../shared/lab.ts';
import type { Protocol } from '../netpol/index.ts';
import type { ProbeCheck } from '../labs/types.ts';
import { classify, type Classification } from './classify.ts';
import { dnsServerCommand, httpCommand, lookupCommand, tcpCommand, udpCommand, type ToolCommand } from './commands.ts';
import type { ExecResult } from './exec.ts';
import { addressPlaceholder, type ProbeExecutor, type ProbeSteps, type StepResults } from './executor.ts';
import type { Prediction, Predictor } from './predict.ts';
import { isRunning, podIP, proberLabel, type ProberPod } from './probers.ts';
import type { KubeObject } from './kube.ts';
import type { ClusterView } from './view.ts';

export interface SourcePod {
  namespace: string;
  pod: string;
  container: string;
  ip: string;
  /** how the learner would name it, e.g. `shop/kubelab-probe-1a2b3c4d5e (app=frontend)` */
  display: string;
  /** one of the grader's own prober pods (its image is known), not the learner's */
  prober?: boolean;
}

export type RunInPod = (source: SourcePod, command: ToolCommand, signal?: AbortSignal) => Promise<ExecResult>;

export interface ProbeRun {
  result: ProbeResult;
  /** the engine's word on the stage the probe ended in */
  prediction: Prediction;
  /** the policies said deny, yet the traffic went through (a lookup, or the connection) */
  leaked: boolean;
  /** the policies said deny and the traffic was indeed stopped */
  enforced: boolean;
  /** the name that was looked up, for messages */
  name?: string;
  /** why it could not run, for `error` */
  problem?: string;
  /** the HTTP status differed from the one expected */
  statusMismatch?: { want: number; got?: number };
}

export class ProbeTargetError extends Error {}

/** The existing pod a check names as its source, from the snapshot. */
export function existingSource(check: ProbeCheck, view: ClusterView): SourcePod {
  const from = check.from;
  if ('labels' in from) throw new Error('a prober source is created, not looked up');
  const candidates = [...view.pods.values()]
    .filter((p) => p.metadata.namespace === from.namespace && !isProber(p))
    .filter((p) => ('pod' in from ? p.metadata.name === from.pod : Object.entries(from.selector).every(([k, v]) => p.metadata.labels?.[k] === v)))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const running = candidates.find(isServing);
  const what = 'pod' in from ? `pod ${from.namespace}/${from.pod}` : `a running pod in ${from.namespace} with ${Object.entries(from.selector).map(([k, v]) => `${k}=${v}`).join(',')}`;
  if (!running) throw new ProbeTargetError(candidates.length ? `${what} is not running` : `there is no ${what}`);
  const containers = ((running.spec?.containers ?? []) as Array<{ name: string }>).map((c) => c.name);
  const container = from.container ?? containers[0];
  if (!container || !containers.includes(container)) throw new ProbeTargetError(`${what} has no container ${from.container}`);
  return { namespace: from.namespace, pod: running.metadata.name, container, ip: podIP(running), display: `${from.namespace}/${running.metadata.name}` };
}

/** Running and not on its way out: a rollout's old pod keeps its old labels until it is gone. */
function isServing(p: KubeObject): boolean {
  return isRunning(p) && !p.metadata.deletionTimestamp;
}

/** The grader's own prober pods carry the labels checks ask for, so a label match alone would find them instead of the learner's pod. */
function isProber(p: { metadata: { labels?: Record<string, string> } }): boolean {
  return p.metadata.labels?.[proberLabel] === 'true';
}

export function proberSource(p: ProberPod): SourcePod {
  const labels = Object.entries(p.labels).map(([k, v]) => `${k}=${v}`).join(',');
  return { namespace: p.namespace, pod: p.pod, container: p.container, ip: p.ip, display: `${p.namespace}/${p.pod}${labels ? ` (${labels})` : ''}`, prober: true };
}

interface Target {
  /** a DNS name to look up first */
  name?: string;
  /** the address the name should give (a Service's ClusterIP in the snapshot) */
  expected?: string;
  /** an address known without DNS */
  ip?: string;
  display: string;
}

function resolveTarget(check: ProbeCheck, view: ClusterView): Target {
  const to = check.to;
  if ('service' in to) {
    const name = `${to.service}.${to.namespace}.svc.cluster.local`;
    const expected = view.services.find((s) => s.namespace === to.namespace && s.name === to.service)?.clusterIP;
    return { name, expected, display: name };
  }
  if ('host' in to) return { name: to.host, display: to.host };
  if ('ip' in to) return { ip: to.ip, display: to.ip };
  const pods = [...view.pods.values()]
    .filter((p) => p.metadata.namespace === to.namespace && !isProber(p))
    .filter((p) => ('pod' in to ? p.metadata.name === to.pod : Object.entries(to.labels).every(([k, v]) => p.metadata.labels?.[k] === v)))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const running = pods.find(isServing);
  const what = 'pod' in to ? `pod ${to.namespace}/${to.pod}` : `a running pod in ${to.namespace} with ${Object.entries(to.labels).map(([k, v]) => `${k}=${v}`).join(',')}`;
  if (!running) throw new ProbeTargetError(pods.length ? `the target ${what} is not running` : `there is no ${what} to probe`);
  return { ip: podIP(running), display: `${to.namespace}/${running.metadata.name} (${podIP(running)})` };
}

/** Run a probe once. Never throws: what goes wrong becomes an `error` outcome with the reason. */
export async function runProbe(check: ProbeCheck, source: SourcePod, view: ClusterView, predictor: Predictor, executor: ProbeExecutor, signal?: AbortSignal): Promise<ProbeRun> {
  const started = Date.now();
  const protocol: Protocol = check.protocol;
  const base = (observed: ProbeOutcome, target: string, extra: Partial<ProbeResult> = {}): ProbeResult => ({
    source: source.display,
    target: check.port !== undefined ? `${target}:${check.port}` : target,
    port: check.port,
    protocol: check.protocol,
    expected: check.expect as ExpectedOutcome,
    observed,
    attempts: 1,
    durationMs: Date.now() - started,
    ...extra,
  });
  const sourceKey = `${source.namespace}/${source.pod}`;
  let target: Target;
  try {
    target = resolveTarget(check, view);
  } catch (err) {
    const problem = err instanceof Error ? err.message : String(err);
    return { result: base('error', describeTo(check)), prediction: { allowedBy: [] }, leaked: false, enforced: false, problem };
  }

  // The steps: the name looked up with a bounded wait (a blocked resolver would otherwise stall
  // the connection for many seconds), then the connection to the address it gave.
  const steps: ProbeSteps = {};
  if (target.name) steps.lookup = lookupCommand('service' in check.to ? `${target.name}.` : target.name, check.timeoutSeconds);
  if (target.expected) steps.expectedAddress = target.expected;
  if (check.port !== undefined) {
    const ip = target.ip ?? addressPlaceholder;
    if (protocol === 'UDP') steps.connect = check.port === 53 ? dnsServerCommand(ip, check.port, check.timeoutSeconds) : udpCommand(ip, check.port, check.timeoutSeconds);
    else if (check.http) steps.connect = httpCommand(ip, check.port, check.http.path, check.timeoutSeconds, { host: target.name, https: check.http.https });
    else steps.connect = tcpCommand(ip, check.port, check.timeoutSeconds);
  }
  const commands = [steps.lookup, steps.connect].filter((c): c is ToolCommand => c !== undefined).map((c) => c.argv.join(' '));
  let results: StepResults;
  try {
    results = await executor(source, steps, signal);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { result: base('error', target.display, { command: commands.join(' && '), output: detail.slice(0, 500) }), prediction: { allowedBy: [] }, leaked: false, enforced: false, problem: detail, name: target.name };
  }
  const outputs = [results.lookup, results.connect].filter((r): r is ExecResult => r !== undefined).map((r) => (r.stdout + r.stderr).trim());
  const finish = (observed: ProbeOutcome, prediction: Prediction, c: Classification | undefined, more: Partial<ProbeRun> = {}): ProbeRun => {
    const result = base(observed, target.display, {
      predicted: prediction.verdict,
      explanation: prediction.explanation,
      httpStatus: c?.httpStatus,
      command: commands.join(' && '),
      output: outputs.filter(Boolean).join('\n').slice(0, 500),
    });
    return { result, prediction, leaked: false, enforced: false, problem: observed === 'error' ? c?.detail : undefined, name: target.name, ...more };
  };

  let ip = target.ip;
  let lookupPrediction: Prediction | undefined;
  if (steps.lookup) {
    lookupPrediction = predictor.lookup(sourceKey);
    if (!results.lookup) return finish('error', lookupPrediction, { outcome: 'error', detail: 'the lookup did not run' });
    const c = classify(steps.lookup.tool, { ...results.lookup, timeoutMs: steps.lookup.timeoutMs });
    if (c.outcome === 'error') return finish('error', lookupPrediction, c);
    if (c.outcome !== 'connected' || !c.addresses?.length) {
      // why it failed: the resolver unreachable (policies) or the name unknown
      const blocked = lookupPrediction.verdict === 'deny';
      const prediction: Prediction = blocked ? lookupPrediction : { allowedBy: [], note: `${target.name} does not resolve (${c.detail})` };
      return finish('dns-error', { ...prediction, outcome: 'dns-error' }, c, { enforced: blocked });
    }
    if (check.port === undefined) {
      return finish('connected', { ...lookupPrediction, outcome: 'connected' }, c, { leaked: lookupPrediction.verdict === 'deny' });
    }
    ip = results.ip;
    if (!ip) return finish('error', lookupPrediction, { outcome: 'error', detail: `${target.name} has no IPv4 address to connect to (${c.detail})` });
  }
  if (!ip || check.port === undefined || !steps.connect || !results.connect) return finish('error', { allowedBy: [] }, { outcome: 'error', detail: 'the connection did not run' });

  const prediction = predictor.connection(sourceKey, ip, check.port, protocol);
  let c = classify(steps.connect.tool, { ...results.connect, timeoutMs: steps.connect.timeoutMs });
  // a DNS server that answers at all (even "no such name") was reached
  if (protocol === 'UDP' && check.port === 53 && c.outcome === 'dns-error') c = { ...c, outcome: 'connected', detail: 'the DNS server answered' };
  const observed = c.outcome;
  const lookupLeak = lookupPrediction?.verdict === 'deny';
  const more: Partial<ProbeRun> = {
    leaked: lookupLeak || (prediction.verdict === 'deny' && observed === 'connected'),
    enforced: prediction.verdict === 'deny' && observed === 'timeout',
  };
  if (check.http?.status !== undefined && observed === 'connected' && c.httpStatus !== check.http.status) more.statusMismatch = { want: check.http.status, got: c.httpStatus };
  return finish(observed, prediction, c, more);
}

function describeTo(check: ProbeCheck): string {
  const to = check.to;
  if ('service' in to) return `${to.service}.${to.namespace}.svc.cluster.local`;
  if ('host' in to) return to.host;
  if ('ip' in to) return to.ip;
  if ('pod' in to) return `${to.namespace}/${to.pod}`;
  return `${to.namespace}/${Object.entries(to.labels).map(([k, v]) => `${k}=${v}`).join(',')}`;
}
