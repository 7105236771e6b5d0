// kill -9 mid-lab: `kubelab serve` runs as a child with its own state directory; a learner passes
// a step, answers a question and makes objects with kubectl in their terminal; the server is
// SIGKILLed. On restart every learner's progress, answers and cluster objects must be back, and
// what the dead server left (network namespaces, pod and shell processes) must be gone.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { listNamespaces } from '../../server/dataplane/netns/names.ts';
import { Learner, sleep } from './learner.ts';
import { alive, descendants, namespacesOf, serve } from './served.ts';

const LAB = 'first-network-policy';

const children: ChildProcess[] = [];
const state = mkdtempSync(join(tmpdir(), 'kubelab-rel-crash-'));
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(state, { recursive: true, force: true });
});

test('kill -9 mid-lab: progress, answers and objects come back; the dead server’s leftovers are reaped', { timeout: 240_000 }, async (t) => {
  const first = await serve(state, { KUBELAB_INSTRUCTOR_TOKEN: 'crash-teacher-token' });
  children.push(first.child);
  const ada = await new Learner(first.url).join('Ada');
  const bob = await new Learner(first.url).join('Bob');
  await Promise.all([ada.start(LAB), bob.start(LAB)]);
  await Promise.all([ada.waitReady(LAB), bob.waitReady(LAB)]);

  // progress: Ada passes step one and answers a question; Bob answers one wrong
  const check = await ada.request<{ outcome: string; summary: string }>('POST', `/api/labs/${LAB}/steps/look-around/check`, {});
  assert.equal(check.status, 200, JSON.stringify(check.body));
  assert.equal(check.body.outcome, 'passed', check.body.summary);
  assert.equal((await ada.request('POST', `/api/labs/${LAB}/questions/empty-ingress`, { answer: 'deny-ingress' })).status, 200);
  assert.equal((await bob.request('POST', `/api/labs/${LAB}/questions/empty-ingress`, { answer: 'nothing' })).status, 200);

  // objects: made in Ada's terminal with kubectl, the last one just before the crash
  const term = await ada.openTerminal(LAB);
  await term.waitFor('learner@kubelab');
  const policy = 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Ingress]}';
  for (const cmd of [
    `printf '%s\\n' '${policy.replace(/\n/g, "' '")}' | kubectl apply -f -`,
    'kubectl create configmap notes -n shop --from-literal=who=ada',
    'kubectl label namespace shop reviewed=yes',
    'kubectl create namespace scratch',
  ]) {
    const r = await term.run(cmd);
    assert.equal(r.exitCode, 0, `${cmd}:\n${r.output}`);
  }
  // the last change is saved moments after it was made (no check, no shutdown needed)
  const db = new Database(join(state, 'kubelab.db'), { readonly: true, fileMustExist: true });
  try {
    const saved = () => (db.prepare('SELECT objects FROM environments WHERE learner_id = ? AND lab_id = ? ORDER BY created_at DESC LIMIT 1').get(ada.id, LAB) as { objects: string | null } | undefined)?.objects ?? '';
    for (let i = 0; i < 100 && !saved().includes('"scratch"'); i++) await sleep(100);
    assert.match(saved(), /"scratch"/, 'the namespace made last is saved within seconds');
  } finally {
    db.close();
  }
  const shellPid = term.hello!.pid;
  const leftovers = descendants(first.child.pid!);
  const namespaces = namespacesOf(first.child.pid!);
  t.diagnostic(`before the kill: ${leftovers.size} processes under the server, ${namespaces.length} network namespaces`);
  assert.ok([...leftovers.keys()].includes(shellPid), 'the learner shell is a process of the server');

  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));
  ada.close();
  bob.close();

  // restart on the same state
  const second = await serve(state, { KUBELAB_INSTRUCTOR_TOKEN: 'crash-teacher-token' });
  children.push(second.child);
  assert.match(second.output(), /recreating 2 environments/);
  const stillThere = namespaces.filter((ns) => listNamespaces().includes(ns));
  assert.deepEqual(stillThere, [], 'the dead server’s network namespaces are reaped at start');
  // processes: give the kernel a moment to deliver the parent-death signals
  let survivors: number[] = [];
  for (let i = 0; i < 50; i++) {
    survivors = [...leftovers].filter(([pid, start]) => alive(pid, start)).map(([pid]) => pid);
    if (survivors.length === 0) break;
    await sleep(100);
  }
  assert.deepEqual(survivors, [], `processes of the dead server still running: ${survivors.map((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 80); } catch { return String(p); } }).join('; ')}`);

  // the same cookies still work; progress and answers are back
  const ada2 = new Learner(second.url);
  ada2.cookie = ada.cookie;
  const bob2 = new Learner(second.url);
  bob2.cookie = bob.cookie;
  const session = await ada2.request<{ steps: Array<{ id: string; state: string }>; questions: Array<{ id: string; last?: { correct: boolean } }> }>('GET', `/api/labs/${LAB}/session`);
  assert.equal(session.status, 200);
  assert.equal(session.body.steps.find((s) => s.id === 'look-around')?.state, 'passed');
  assert.equal(session.body.questions.find((q) => q.id === 'empty-ingress')?.last?.correct, true);
  const bobSession = await bob2.request<{ questions: Array<{ id: string; last?: { correct: boolean } }> }>('GET', `/api/labs/${LAB}/session`);
  assert.equal(bobSession.body.questions.find((q) => q.id === 'empty-ingress')?.last?.correct, false);

  // the cluster comes back with Ada's objects
  await ada2.waitReady(LAB);
  await bob2.waitReady(LAB);
  const term2 = await ada2.openTerminal(LAB);
  await term2.waitFor('learner@kubelab');
  assert.notEqual(term2.hello!.pid, shellPid, 'a new shell');
  const got = await term2.run('kubectl get networkpolicy default-deny -n shop -o name; kubectl get configmap notes -n shop -o jsonpath={.data.who}; echo; kubectl get ns shop -o jsonpath={.metadata.labels.reviewed}; echo; kubectl get ns scratch -o name');
  assert.match(got.output, /networkpolicy\.networking\.k8s\.io\/default-deny/, got.output);
  assert.match(got.output, /^ada\r?$/m, `the configmap: ${got.output}`);
  assert.match(got.output, /^yes\r?$/m, `the namespace label: ${got.output}`);
  assert.match(got.output, /namespace\/scratch/, got.output);
  await term2.close();
  ada2.close();
  bob2.close();

  // a clean stop leaves nothing behind either
  const secondNamespaces = namespacesOf(second.child.pid!);
  assert.ok(secondNamespaces.length > 0 || namespaces.length === 0, 'the restarted server runs its clusters');
  second.child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => second.child.once('exit', (c) => r(c)));
  assert.equal(code, 0, second.output());
  assert.deepEqual(secondNamespaces.filter((ns) => listNamespaces().includes(ns)), [], 'SIGTERM removes the clusters');
});
