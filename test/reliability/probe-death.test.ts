// A probe's pod that dies while a check runs: the checks it was running must come back as
// `error` ("could not check"), never as a failure the learner would be blamed for, and the next
// grading must work again. The step mixes probes that connect at once with probes that wait
// out a policy drop, and the prober pod (or the learner's own source pod) is force-deleted at
// different moments of the grading.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../../server/apiserver/runtime.ts';
import type { ClusterBackend, Environment } from '../../server/backends/types.ts';
import { createEmbeddedBackend } from '../../server/backends/embedded.ts';
import { chooseRuntime } from '../../server/dataplane/index.ts';
import { createGrader, type Grader } from '../../server/grader/index.ts';
import { loadLab } from '../../server/labs/loader.ts';
import type { Lab } from '../../server/labs/types.ts';
import { sleep } from './learner.ts';

const T = 2;

function writeLab(dir: string): void {
  const docs = [
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: deathrow}',
    'apiVersion: v1\nkind: Pod\nmetadata: {name: server, namespace: deathrow, labels: {app: server}}\nspec:\n  containers:\n    - name: app\n      image: hashicorp/http-echo:1.0\n      args: ["-listen=:8080", "-text=hello"]\n      ports: [{containerPort: 8080}, {containerPort: 9090}]',
    'apiVersion: v1\nkind: Service\nmetadata: {name: server, namespace: deathrow}\nspec:\n  selector: {app: server}\n  ports: [{name: http, port: 8080}, {name: metrics, port: 9090}]',
    'apiVersion: v1\nkind: Pod\nmetadata: {name: learner-client, namespace: deathrow, labels: {app: learner-client}}\nspec:\n  containers:\n    - name: shell\n      image: nicolaka/netshoot:v0.16\n      command: ["sleep", "infinity"]',
    'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: only-8080, namespace: deathrow}\nspec:\n  podSelector: {matchLabels: {app: server}}\n  policyTypes: [Ingress]\n  ingress:\n    - ports: [{port: 8080}]',
  ];
  mkdirSync(join(dir, 'steps'));
  writeFileSync(join(dir, 'setup.yaml'), docs.join('\n---\n') + '\n');
  writeFileSync(join(dir, 'steps', 'probe.md'), '# Probes\n');
  const checks: string[] = [];
  for (const [from, tag] of [['{namespace: deathrow, labels: {app: client}}', 'prober'], ['{namespace: deathrow, pod: learner-client}', 'own']] as const) {
    for (let i = 0; i < 4; i++) {
      checks.push(`      - {id: ${tag}-open-${i}, type: probe, title: ${tag} reaches 8080 (${i}), from: ${from}, to: {service: server}, port: 8080, expect: connected, timeoutSeconds: ${T}}`);
      checks.push(`      - {id: ${tag}-dropped-${i}, type: probe, title: ${tag} is dropped on 9090 (${i}), from: ${from}, to: {service: server}, port: 9090, expect: timeout, timeoutSeconds: ${T}}`);
    }
  }
  writeFileSync(
    join(dir, 'lab.yaml'),
    `apiVersion: kubelab.dev/v1\nkind: Lab\nid: probe-death\ntitle: Probe death\nsummary: Probes whose pod dies.\nestimatedMinutes: 1\nenvironment:\n  namespaces: [deathrow]\n  setup: [setup.yaml]\nsteps:\n  - id: probe\n    title: Probes\n    text: steps/probe.md\n    beforeSolution: pass\n    checks:\n${checks.join('\n')}\n`,
  );
}

describe('a probe pod that dies mid-check', () => {
  let dir: string;
  let backend: ClusterBackend;
  let env: Environment;
  let lab: Lab;
  let grader: Grader;
  let core: CoreV1Api;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubelab-rel-probe-'));
    writeLab(dir);
    lab = loadLab(dir);
    backend = createEmbeddedBackend({ runtime: await chooseRuntime(), stateDir: join(dir, 'clusters') });
    env = await backend.provision({ learner: { id: 'rel', name: 'rel' }, lab: { labId: lab.id, setup: lab.environment.setup.map((m) => m.object as unknown as KubeObject), externalHosts: [], images: [] } });
    grader = createGrader(env);
    const kc = new KubeConfig();
    kc.loadFromString(env.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
  });
  after(async () => {
    await grader?.close();
    await env?.dispose();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function killPods(selector: string): Promise<string[]> {
    const pods = await core.listNamespacedPod({ namespace: 'deathrow', labelSelector: selector });
    await Promise.all(pods.items.map((p) => core.deleteNamespacedPod({ namespace: 'deathrow', name: p.metadata!.name!, gracePeriodSeconds: 0 })));
    return pods.items.map((p) => p.metadata!.name!);
  }

  async function recreateLearnerPod(): Promise<void> {
    const pod = lab.environment.setup.map((m) => m.object as unknown as KubeObject).find((o) => o.kind === 'Pod' && o.metadata.name === 'learner-client')!;
    for (let i = 0; i < 100; i++) {
      try {
        await core.createNamespacedPod({ namespace: 'deathrow', body: structuredClone(pod) as never });
        break;
      } catch {
        await sleep(100); // the old one is still going away
      }
    }
    await env.settle?.();
    for (let i = 0; i < 100; i++) {
      const p = await core.readNamespacedPod({ namespace: 'deathrow', name: 'learner-client' });
      if (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
      await sleep(100);
    }
  }

  test('every check passes while nothing dies (the baseline the rest is judged against)', async () => {
    const r = await grader.gradeStep(lab, 'probe');
    assert.equal(r.outcome, 'passed', `${r.summary}\n${r.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.message}`).join('\n')}`);
  });

  for (const [what, selector, delayMs] of [
    ['the prober pod, as probing starts', 'kubelab.dev/prober=true', 0],
    ['the prober pod, while blocked probes wait', 'kubelab.dev/prober=true', 600],
    ["the learner's source pod, while blocked probes wait", 'app=learner-client', 600],
    ['both, late in the wait', 'app in (learner-client,client)', 1500],
  ] as const) {
    test(`killing ${what}: interrupted checks are errors, never failures`, { timeout: 120_000 }, async (t) => {
      let killed: Promise<string[]> | undefined;
      const r = await grader.gradeStep(lab, 'probe', {
        onProgress: (p) => {
          if (p.phase === 'probing' && !killed) killed = sleep(delayMs).then(() => killPods(selector));
        },
      });
      const names = await killed;
      assert.ok(names && names.length > 0, 'a pod was killed during the grading');
      const failed = r.checks.filter((c) => c.status === 'fail');
      const errors = r.checks.filter((c) => c.status === 'error');
      t.diagnostic(`killed ${names!.join(', ')}: ${r.outcome}; ${errors.length} errors, ${r.checks.filter((c) => c.status === 'pass').length} passes`);
      assert.deepEqual(failed.map((c) => `${c.id}: ${c.message}`), [], 'no check is failed because its pod died');
      assert.notEqual(r.outcome, 'failed');
      for (const c of errors) assert.match(c.message, /^could not check: /, c.message);
      assert.ok(errors.length > 0 || r.outcome === 'passed', 'what could not run says so');
      if (errors.length) assert.equal(r.outcome, 'could-not-check', r.summary);
      if (selector !== 'kubelab.dev/prober=true') await recreateLearnerPod();
      // and the next grading works again: a new prober, the learner's pod back
      const again = await grader.gradeStep(lab, 'probe');
      assert.equal(again.outcome, 'passed', `after the kill: ${again.summary}\n${again.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.message}`).join('\n')}`);
    });
  }
});
