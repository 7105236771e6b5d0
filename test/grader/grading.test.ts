// A grading on a live embedded cluster (netns as root, sim otherwise), watched through the
// grader's runInPod and log hooks: every source pod's probes go out in one exec at once, however
// many checks the step has, and a second try is spent only where the network may have been
// catching up, not on traffic stopped exactly as the policies say.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../../server/apiserver/runtime.ts';
import type { ClusterBackend, Environment } from '../../server/backends/types.ts';
import { createEmbeddedBackend } from '../../server/backends/embedded.ts';
import { chooseRuntime } from '../../server/dataplane/index.ts';
import { createGrader, type Grader } from '../../server/grader/index.ts';
import { scriptInput, scriptReader } from '../../server/grader/executor.ts';
import { WarmExecs } from '../../server/grader/warm-exec.ts';
import { loadLab } from '../../server/labs/loader.ts';
import type { Lab } from '../../server/labs/types.ts';

const servers = 4;

function writeLab(dir: string): void {
  const docs = ['apiVersion: v1\nkind: Namespace\nmetadata: {name: grading}'];
  for (let i = 0; i < servers; i++) {
    docs.push(
      `apiVersion: v1\nkind: Pod\nmetadata: {name: server-${i}, namespace: grading, labels: {app: server-${i}, tier: backend}}\nspec:\n  containers:\n    - name: app\n      image: hashicorp/http-echo:1.0\n      args: ["-listen=:8080", "-text=server-${i}"]\n      ports: [{containerPort: 8080}, {containerPort: 9090}]`,
      `apiVersion: v1\nkind: Service\nmetadata: {name: server-${i}, namespace: grading}\nspec:\n  selector: {app: server-${i}}\n  ports: [{name: http, port: 8080}, {name: metrics, port: 9090}]`,
    );
  }
  docs.push(
    'apiVersion: v1\nkind: Pod\nmetadata: {name: learner-shell, namespace: grading, labels: {app: client}}\nspec:\n  containers:\n    - name: shell\n      image: nicolaka/netshoot:v0.16\n      command: ["sleep", "infinity"]',
    'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: only-8080, namespace: grading}\nspec:\n  podSelector: {matchLabels: {tier: backend}}\n  policyTypes: [Ingress]\n  ingress:\n    - from: [{podSelector: {matchLabels: {app: client}}}]\n      ports: [{port: 8080}]',
  );
  mkdirSync(join(dir, 'steps'));
  writeFileSync(join(dir, 'setup.yaml'), docs.join('\n---\n') + '\n');
  writeFileSync(join(dir, 'steps', 'probe.md'), '# Probes\n');
  const busy: string[] = [];
  for (let i = 0; i < servers; i++) {
    for (const [port, expect] of [
      [8080, 'connected'],
      [9090, 'timeout'],
    ] as const) {
      busy.push(`      - {id: prober-${i}-${port}, type: probe, title: prober to ${i} on ${port}, from: {namespace: grading, labels: {app: client}}, to: {service: server-${i}}, port: ${port}, expect: ${expect}, timeoutSeconds: 1}`);
      busy.push(`      - {id: shell-${i}-${port}, type: probe, title: shell to ${i} on ${port}, from: {namespace: grading, pod: learner-shell}, to: {labels: {app: server-${i}}}, port: ${port}, expect: ${expect}, timeoutSeconds: 1}`);
    }
  }
  const wrong = [
    // the policy drops 9090 as the engine says: the network agrees, no second try
    '      - {id: dropped-as-the-policy-says, type: probe, title: 9090 is open, from: {namespace: grading, labels: {app: client}}, to: {service: server-0}, port: 9090, expect: connected, timeoutSeconds: 1}',
    // the policy lets 8080 through: a mismatch the network could have been catching up on
    '      - {id: allowed-but-expected-blocked, type: probe, title: 8080 is closed, from: {namespace: grading, labels: {app: client}}, to: {service: server-0}, port: 8080, expect: timeout, timeoutSeconds: 1}',
  ];
  // more probes from one learner pod than one exec request's URL can carry
  const crowd: string[] = [];
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < servers; i++) {
      crowd.push(`      - {id: crowd-${round}-${i}-8080, type: probe, title: shell to service ${i}, from: {namespace: grading, pod: learner-shell}, to: {service: server-${i}}, port: 8080, expect: connected, timeoutSeconds: 1}`);
      crowd.push(`      - {id: crowd-${round}-${i}-9090, type: probe, title: shell to service ${i} metrics, from: {namespace: grading, pod: learner-shell}, to: {service: server-${i}}, port: 9090, expect: timeout, timeoutSeconds: 1}`);
    }
  }
  writeFileSync(
    join(dir, 'lab.yaml'),
    `apiVersion: kubelab.dev/v1\nkind: Lab\nid: grading\ntitle: Grading\nsummary: Many probes, two sources.\nestimatedMinutes: 1\nenvironment:\n  namespaces: [grading]\n  setup: [setup.yaml]\nsteps:\n` +
      `  - id: busy\n    title: Many probes\n    text: steps/probe.md\n    beforeSolution: pass\n    checks:\n${busy.join('\n')}\n` +
      `  - id: wrong\n    title: Wrong expectations\n    text: steps/probe.md\n    beforeSolution: pass\n    checks:\n${wrong.join('\n')}\n` +
      `  - id: crowd\n    title: A crowd of probes from one pod\n    text: steps/probe.md\n    beforeSolution: pass\n    checks:\n${crowd.join('\n')}\n`,
  );
}

describe('a grading on a live cluster', () => {
  let dir: string;
  let backend: ClusterBackend;
  let env: Environment;
  let lab: Lab;
  let grader: Grader;
  /** namespace/pod of each probe exec, from the grader's log */
  const execs: string[] = [];
  const logged: Array<{ fields: Record<string, unknown>; message: string }> = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubelab-grading-'));
    writeLab(dir);
    lab = loadLab(dir);
    backend = createEmbeddedBackend({ runtime: await chooseRuntime(), stateDir: join(dir, 'clusters') });
    env = await backend.provision({ learner: { id: 'grading', name: 'grading' }, lab: { labId: lab.id, setup: lab.environment.setup.map((m) => m.object as unknown as KubeObject), externalHosts: [], images: [] } });
    grader = createGrader(env, {
      // far fewer than the step's probes: a limit on probes would split a pod's probes over several execs
      concurrency: 2,
      log: {
        debug: (fields, message) => {
          logged.push({ fields, message });
          if (message === 'probe exec') execs.push(String(fields.pod));
        },
      },
    });
  });

  after(async () => {
    await grader?.close();
    await env?.dispose();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('sixteen probes from two pods with a limit of two: one exec per pod, all passing', { timeout: 300_000 }, async () => {
    // the first grading makes the prober pod
    await grader.gradeStep(lab, 'busy');
    execs.length = 0;
    const r = await grader.gradeStep(lab, 'busy');
    assert.equal(r.outcome, 'passed', r.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.message}`).join('\n'));
    assert.deepEqual([...execs].sort(), ['grading/kubelab-probe-5c5e3110bd', 'grading/learner-shell'].sort(), `execs: ${execs.join(', ')}`);
    const phases = logged.filter((l) => l.message === 'graded step').at(-1)?.fields.ms as Record<string, number> | undefined;
    assert.ok(phases && ['settle', 'view', 'probers', 'checks', 'total'].every((p) => typeof phases[p] === 'number'), JSON.stringify(phases));
  });

  test('a drop the policies predict is not tried again; a mismatch they do not predict is', { timeout: 300_000 }, async () => {
    const r = await grader.gradeStep(lab, 'wrong');
    assert.equal(r.outcome, 'failed', r.summary);
    const byId = new Map(r.checks.map((c) => [c.id, c]));
    const dropped = byId.get('dropped-as-the-policy-says');
    assert.equal(dropped?.status, 'fail', dropped?.message);
    assert.equal(dropped?.probe?.observed, 'timeout');
    assert.equal(dropped?.probe?.attempts, 1);
    const allowed = byId.get('allowed-but-expected-blocked');
    assert.equal(allowed?.status, 'fail', allowed?.message);
    assert.equal(allowed?.probe?.observed, 'connected');
    assert.equal(allowed?.probe?.attempts, 2);
    const record = logged.filter((l) => l.message === 'graded step').at(-1);
    assert.deepEqual(record?.fields.retried, ['allowed-but-expected-blocked']);
  });

  test('32 Service probes from one learner pod: several execs, each within what a request URL carries, all passing', { timeout: 300_000 }, async () => {
    execs.length = 0;
    const r = await grader.gradeStep(lab, 'crowd');
    assert.equal(r.checks.length, 32);
    assert.equal(r.outcome, 'passed', r.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.message}`).join('\n'));
    assert.ok(execs.length > 1 && execs.every((e) => e === 'grading/learner-shell'), `execs: ${execs.join(', ')}`);
  });

  test('an exec started ahead runs the next script it is given; one whose pod is gone is dropped', { timeout: 300_000 }, async () => {
    const config = new KubeConfig();
    config.loadFromString(env.kubeconfig);
    const warm = new WarmExecs(config);
    const target = { namespace: 'grading', pod: 'learner-shell', container: 'shell' };
    const limits = { timeoutMs: 30_000 };
    try {
      const first = await warm.run(target, ['sh', '-c', scriptReader], scriptInput('echo one; hostname'), limits);
      assert.equal(first.exitCode, 0, first.stderr);
      assert.equal(first.stdout, 'one\nlearner-shell\n');
      assert.equal(warm.size, 1, 'the next exec waits');
      const second = await warm.run(target, ['sh', '-c', scriptReader], scriptInput("printf '%s' \"it's two\"; exit 3"), limits);
      assert.deepEqual([second.exitCode, second.stdout], [3, "it's two"]);
      // a length that stops short of the script's end
      const [length, ...rest] = scriptInput('echo three').split('\n');
      const cut = await warm.run(target, ['sh', '-c', scriptReader], `${Number(length) - 5}\n${rest.join('\n')}`, limits);
      assert.equal(cut.exitCode, 125, 'a script cut short does not run');
      assert.equal(cut.stdout, '');
      assert.match(cut.stderr, /cut short/);
      assert.equal(warm.size, 1);
      // one left unused past the idle limit is closed and forgotten
      const brief = new WarmExecs(config, { idleMs: 200 });
      try {
        await brief.run(target, ['sh', '-c', scriptReader], scriptInput('true'), limits);
        assert.equal(brief.size, 1);
        for (let i = 0; i < 100 && brief.size > 0; i++) await new Promise((r) => setTimeout(r, 100));
        assert.equal(brief.size, 0, 'the idle exec was closed');
        const again = await brief.run(target, ['sh', '-c', scriptReader], scriptInput('echo again'), limits);
        assert.equal(again.stdout, 'again\n');
      } finally {
        brief.close();
      }
      const core = new KubeConfig();
      core.loadFromString(env.kubeconfig);
      await fetchDelete(core, 'grading', 'learner-shell');
      for (let i = 0; i < 200 && warm.size > 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(warm.size, 0, 'the waiting exec of a deleted pod is forgotten');
    } finally {
      warm.close();
    }
  });
});

async function fetchDelete(config: KubeConfig, namespace: string, name: string): Promise<void> {
  const { CoreV1Api } = await import('@kubernetes/client-node');
  await config.makeApiClient(CoreV1Api).deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
}
