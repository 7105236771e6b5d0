// The probe pipeline without a cluster: a snapshot written by hand, and the tools' recorded
// outputs played back for whatever the probe runs. The cluster-level tests are in test/grader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { NetworkPolicy } from '../netpol/index.ts';
import type { ProbeCheck, Lab, Step } from '../labs/types.ts';
import type { ToolCommand } from './commands.ts';
import type { ExecResult } from './exec.ts';
import { judgeProbe } from './judge.ts';
import type { KubeObject } from './kube.ts';
import { Predictor } from './predict.ts';
import { existingSource, ProbeTargetError, runProbe, type SourcePod } from './probe.ts';
import { needsSecondTry, summarizeStep, type Graded } from './grader.ts';
import { sequentialExecutor } from './executor.ts';
import type { ClusterView } from './view.ts';

const recorded = new Map(
  (JSON.parse(readFileSync(new URL('./testdata/tool-outputs.json', import.meta.url), 'utf8')) as Array<ExecResult & { name: string }>).map((r) => [r.name, r]),
);
const play = (name: string): ExecResult => {
  const r = recorded.get(name);
  if (!r) throw new Error(`no recorded output ${name}`);
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, elapsedMs: r.elapsedMs };
};

function pod(namespace: string, name: string, ip: string, labels: Record<string, string>, ports: number[] = []): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: 'c', ports: ports.map((p) => ({ containerPort: p })) }] },
    status: { phase: 'Running', podIP: ip },
  };
}

const denyIngress: NetworkPolicy = { metadata: { name: 'default-deny-ingress', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } };
const allowAnyNamespace: NetworkPolicy = {
  metadata: { name: 'allow-frontend', namespace: 'shop' },
  spec: { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'frontend' } } }], ports: [{ port: 8080 }] }] },
};
const denyEgress: NetworkPolicy = { metadata: { name: 'deny-egress', namespace: 'outside' }, spec: { podSelector: {}, policyTypes: ['Egress'] } };

function view(policies: NetworkPolicy[], opts: { apiEndpoints?: boolean } = {}): ClusterView {
  const pods = [
    pod('shop', 'api', '10.244.0.10', { app: 'api' }, [8080]),
    pod('outside', 'kubelab-probe-1', '10.244.0.20', { app: 'frontend', 'kubelab.dev/prober': 'true' }),
    pod('kube-system', 'coredns', '10.244.0.2', { 'k8s-app': 'kube-dns' }, [53]),
  ];
  const podInfos = pods.map((p) => ({
    namespace: p.metadata.namespace!,
    name: p.metadata.name,
    labels: p.metadata.labels ?? {},
    ip: String(p.status?.podIP),
    containerPorts: ((p.spec?.containers as Array<{ ports: Array<{ containerPort: number }> }>)[0].ports ?? []).map((x) => ({ port: x.containerPort, protocol: 'TCP' as const })),
  }));
  return {
    snapshot: { namespaces: ['shop', 'outside', 'kube-system'].map((n) => ({ name: n, labels: { 'kubernetes.io/metadata.name': n } })), pods: podInfos },
    policies,
    services: [
      { namespace: 'shop', name: 'api', clusterIP: '10.96.0.20', ports: [{ port: 8080, protocol: 'TCP', targetPort: 8080 }], endpoints: opts.apiEndpoints === false ? [] : ['shop/api'] },
      { namespace: 'kube-system', name: 'kube-dns', clusterIP: '10.96.0.10', ports: [{ port: 53, protocol: 'UDP', targetPort: 53 }], endpoints: ['kube-system/coredns'] },
    ],
    pods: new Map(pods.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p])),
  };
}

const source: SourcePod = { namespace: 'outside', pod: 'kubelab-probe-1', container: 'probe', ip: '10.244.0.20', display: 'outside/kubelab-probe-1 (app=frontend)' };
const check = (expect: ProbeCheck['expect'], over: Partial<ProbeCheck> = {}): ProbeCheck => ({
  type: 'probe',
  id: 'c',
  title: 'outside to api',
  source: { file: 'lab.yaml', line: 1, column: 1 },
  from: { namespace: 'outside', labels: { app: 'frontend' } },
  to: { service: 'api', namespace: 'shop' },
  port: 8080,
  protocol: 'TCP',
  expect,
  timeoutSeconds: 1,
  ...over,
});

/** A network that answers the lookup with `lookup` and the connection with `connect`. */
function network(lookup: string, connect: string, seen: string[] = []) {
  return async (_s: SourcePod, cmd: ToolCommand): Promise<ExecResult> => {
    seen.push(cmd.argv.join(' '));
    if (cmd.tool === 'dig' && cmd.argv.includes('A') && !cmd.argv.some((a) => a.startsWith('@'))) {
      const r = play(lookup);
      return lookup === 'dig-found' ? { ...r, stdout: '10.96.0.20\n' } : r;
    }
    return play(connect);
  };
}

/** Each tool its own exec, answered by `network`. */
const viaExec = (lookup: string, connect: string, seen: string[] = []) => sequentialExecutor(network(lookup, connect, seen));

test('a dropped connection to a Service: timeout, explained against the pod behind it', async () => {
  const v = view([denyIngress]);
  const seen: string[] = [];
  const run = await runProbe(check('timeout'), source, v, new Predictor(v), viaExec('dig-found', 'nc-timeout', seen));
  assert.deepEqual(seen, ['dig +short +time=1 +tries=1 api.shop.svc.cluster.local. A', 'nc -vz -w 1 10.96.0.20 8080']);
  assert.equal(run.result.observed, 'timeout');
  assert.equal(run.result.predicted, 'deny');
  assert.match(run.result.explanation!.summary, /shop\/api is isolated for ingress by default-deny-ingress/);
  assert.deepEqual([run.enforced, run.leaked], [true, false]);
  const judged = judgeProbe('c', check('timeout'), run);
  assert.equal(judged.status, 'pass');
  assert.equal(run.result.target, 'api.shop.svc.cluster.local:8080');
});

test('least privilege: traffic that must stay blocked names the rule that let it through', async () => {
  const v = view([denyIngress, allowAnyNamespace]);
  const run = await runProbe(check('timeout'), source, v, new Predictor(v), viaExec('dig-found', 'nc-connected'));
  assert.equal(run.result.predicted, 'allow');
  const judged = judgeProbe('c', check('timeout'), run);
  assert.equal(judged.status, 'fail');
  assert.equal(
    judged.message,
    'this traffic must stay blocked, but outside/kubelab-probe-1 (app=frontend) reached api.shop.svc.cluster.local:8080; it was let through by shop/allow-frontend ingress[0] from[0] ports[0]',
  );
});

test('blocked DNS: dns-error, explained by the egress policy on the lookup', async () => {
  const v = view([denyEgress]);
  const seen: string[] = [];
  const run = await runProbe(check('connected'), source, v, new Predictor(v), viaExec('dig-timeout', 'nc-connected', seen));
  assert.equal(seen.length, 1, 'no connection attempt after a failed lookup');
  assert.equal(run.result.observed, 'dns-error');
  assert.equal(run.result.predicted, 'deny');
  assert.match(run.result.explanation!.summary, /isolated for egress by deny-egress/);
  const judged = judgeProbe('c', check('connected'), run);
  assert.match(judged.message, /^api\.shop\.svc\.cluster\.local did not resolve from outside\/kubelab-probe-1 \(app=frontend\): its DNS lookups are blocked \(/);
});

test('an unknown name: dns-error without blame on policies', async () => {
  const v = view([]);
  const run = await runProbe(check('dns-error', { to: { host: 'nosuch.example' }, port: undefined, protocol: 'TCP' }), source, v, new Predictor(v), viaExec('dig-nxdomain', 'nc-connected'));
  assert.equal(run.result.observed, 'dns-error');
  assert.equal(run.result.predicted, undefined);
  assert.equal(judgeProbe('c', check('dns-error'), run).status, 'pass');
});

test('a Service without endpoints predicts refused, and says why', async () => {
  const v = view([], { apiEndpoints: false });
  const run = await runProbe(check('connected'), source, v, new Predictor(v), viaExec('dig-found', 'nc-refused'));
  assert.equal(run.result.observed, 'refused');
  assert.equal(run.prediction.outcome, 'refused');
  assert.match(judgeProbe('c', check('connected'), run).message, /has no ready endpoints/);
});

test('a probe whose tool is missing is an error, never a failure', async () => {
  const v = view([]);
  const run = await runProbe(check('connected'), source, v, new Predictor(v), sequentialExecutor(async () => ({ exitCode: 127, stdout: '', stderr: 'sh: dig: not found\n', elapsedMs: 3 })));
  const judged = judgeProbe('c', check('connected'), run);
  assert.equal(judged.status, 'error');
  assert.match(judged.message, /^could not check: the probe tool could not run/);
});

test('a network that ignores the policies is reported as not enforcing, not as the learner failing', async () => {
  const v = view([denyIngress]);
  const lab = { id: 'l', steps: [] } as unknown as Lab;
  const step = { id: 's', wrongSolutions: [] } as unknown as Step;
  const graded: Graded[] = [];
  for (const id of ['a', 'b']) {
    const c = { ...check('timeout'), id };
    const run = await runProbe(c, source, v, new Predictor(v), viaExec('dig-found', 'nc-connected'));
    graded.push({ id, check: c, run, result: judgeProbe(id, c, run) });
  }
  const r = summarizeStep(lab, step, graded, Date.now());
  assert.equal(r.outcome, 'not-enforcing');
  assert.match(r.summary, /not enforcing NetworkPolicy/);
  assert.match(r.summary, /On a network that enforces them, your policies would pass this step/);
  // one leak alone is the learner's to explain
  const one = summarizeStep(lab, step, graded.slice(0, 1), Date.now());
  assert.equal(one.outcome, 'failed');
});

test('a failure matching a wrong solution tells the learner its why', async () => {
  const v = view([]);
  const c = check('timeout');
  const run = await runProbe(c, source, v, new Predictor(v), viaExec('dig-found', 'nc-connected'));
  const step = { id: 's', wrongSolutions: [{ id: 'w', apply: [], commands: [], undo: [], fails: ['c'], why: 'No policy selects api yet.' }] } as unknown as Step;
  const r = summarizeStep({ id: 'l' } as Lab, step, [{ id: 'c', check: c, run, result: judgeProbe('c', c, run) }], Date.now());
  assert.equal(r.outcome, 'failed');
  assert.equal(r.diagnosis, 'No policy selects api yet.');
});

test('a target or source chosen by labels is the learner pod, never a prober pod carrying the same labels', async () => {
  const v = view([]);
  // sorts before the learner's pod by name, and carries the same app label
  const impostor = pod('shop', 'kubelab-probe-0', '10.244.0.30', { app: 'api', 'kubelab.dev/prober': 'true' }, []);
  v.pods.set('shop/kubelab-probe-0', impostor);
  const seen: string[] = [];
  const run = await runProbe(check('connected', { to: { labels: { app: 'api' }, namespace: 'shop' } }), source, v, new Predictor(v), viaExec('dig-found', 'nc-connected', seen));
  assert.deepEqual(seen, ['nc -vz -w 1 10.244.0.10 8080']);
  assert.match(run.result.target, /^shop\/api \(10\.244\.0\.10\)/);
  // the only app=frontend pod in outside is a prober: no existing pod to probe from
  assert.throws(() => existingSource(check('connected', { from: { namespace: 'outside', selector: { app: 'frontend' } } }), v), ProbeTargetError);
});

test('a second try goes to mismatches the policies do not explain and to passes they contradict', async () => {
  const denied = view([denyIngress]);
  const open = view([]);
  const graded = async (v: ClusterView, expect: 'connected' | 'timeout', tools: [string, string]): Promise<Graded> => {
    const c = check(expect);
    const run = await runProbe(c, source, v, new Predictor(v), viaExec(...tools));
    return { id: 'c', check: c, run, result: judgeProbe('c', c, run) };
  };
  // dropped as the policies say: the network agrees, another try would wait out the same timeout
  assert.equal(needsSecondTry(await graded(denied, 'connected', ['dig-found', 'nc-timeout'])), false);
  // connected where the policies allow it: a plain mismatch of the learner's, tried again
  assert.equal(needsSecondTry(await graded(open, 'timeout', ['dig-found', 'nc-connected'])), true);
  // passing, but through a policy that forbids it: the plugin may not have applied it yet
  assert.equal(needsSecondTry(await graded(denied, 'connected', ['dig-found', 'nc-connected'])), true);
  // passing as a drop the policies do not make
  assert.equal(needsSecondTry(await graded(open, 'timeout', ['dig-found', 'nc-timeout'])), true);
  // passing as the policies say
  assert.equal(needsSecondTry(await graded(open, 'connected', ['dig-found', 'nc-connected'])), false);
  assert.equal(needsSecondTry(await graded(denied, 'timeout', ['dig-found', 'nc-timeout'])), false);
});

test("a rollout's old pod on its way out is never the source or target a selector picks", async () => {
  const v = view([]);
  // sorts first and still carries the labels, but is being deleted
  const leaving = pod('shop', 'api-0-old', '10.244.0.40', { app: 'api' }, [8080]);
  leaving.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  v.pods.set('shop/api-0-old', leaving);
  const seen: string[] = [];
  const run = await runProbe(check('connected', { to: { labels: { app: 'api' }, namespace: 'shop' } }), source, v, new Predictor(v), viaExec('dig-found', 'nc-connected', seen));
  assert.deepEqual(seen, ['nc -vz -w 1 10.244.0.10 8080']);
  assert.match(run.result.target, /^shop\/api \(10\.244\.0\.10\)/);
  assert.equal(existingSource(check('connected', { from: { namespace: 'shop', selector: { app: 'api' } } }), v).pod, 'api');
  // the only one left is leaving: nothing to probe, which is the grader's to say, not a failure
  v.pods.delete('shop/api');
  assert.throws(() => existingSource(check('connected', { from: { namespace: 'shop', selector: { app: 'api' } } }), v), /is not running/);
});
