// A class under load: simulated learners on one `kubelab serve` (a child process with its own
// state), each with an embedded cluster of the example lab and a terminal, typing, running
// kubectl in the terminal, checking their step and reading the lesson, all at once for a while.
// What must hold: 0 errors (every request answered right, every keystroke echoed, every kubectl
// exits 0, every check passes, no error in the server's log), the server's memory and file
// descriptors flat over the run, and after a clean stop no namespace, process or shell cgroup left.
//
// CI runs 12 learners for 20 s. KUBELAB_RELIABILITY_FULL=1 runs 200 for 5 minutes;
// KUBELAB_RELIABILITY_LEARNERS / KUBELAB_RELIABILITY_SECONDS set other sizes.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { listNamespaces } from '../../server/dataplane/netns/names.ts';
import { listShellCgroups, shellCgroupParents } from '../../server/terminal/limits.ts';
import { quantile } from '../../scripts/bench/types.ts';
import { Learner, sleep, type Term } from './learner.ts';
import { alive, descendants, fdCount, namespacesOf, rssMiB, serve } from './served.ts';

const FULL = process.env.KUBELAB_RELIABILITY_FULL === '1';
const LEARNERS = Number(process.env.KUBELAB_RELIABILITY_LEARNERS ?? (FULL ? 200 : 12));
const SECONDS = Number(process.env.KUBELAB_RELIABILITY_SECONDS ?? (FULL ? 300 : 20));
const LAB = 'first-network-policy';
const STEP = 'look-around';

const children: ChildProcess[] = [];
const state = mkdtempSync(join(tmpdir(), 'kubelab-rel-load-'));
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(state, { recursive: true, force: true });
});

function commandLine(pid: number): string {
  try {
    return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim().slice(0, 160)}`;
  } catch {
    return `${pid} (gone)`;
  }
}

/** A loopback address per learner, so the server's per-address join limit sees a class. */
function address(i: number): string {
  return `127.0.${1 + Math.floor(i / 250)}.${2 + (i % 250)}`;
}

interface Stats {
  errors: string[];
  echoes: number[];
  kubectl: number[];
  checks: number[];
  reads: number;
}

/** One learner's loop until `deadline`: type, run kubectl, check, read; every failure is recorded. */
async function work(i: number, learner: Learner, term: Term, deadline: number, stats: Stats): Promise<void> {
  const fail = (what: string) => stats.errors.push(`learner ${i}: ${what}`);
  // spread the class out: not everyone does the same thing at the same moment
  // rates of a learner at work: a keystroke burst every second or two, kubectl every 20-40 s,
  // a check every one to two minutes, the lesson read now and then
  let nextKubectl = Date.now() + Math.random() * 20_000;
  let nextCheck = Date.now() + 10_000 + Math.random() * 50_000;
  while (Date.now() < deadline) {
    try {
      stats.echoes.push(await term.echo(15_000));
      if (Date.now() >= nextKubectl) {
        const t0 = performance.now();
        const r = await term.run('kubectl get pods -n shop --no-headers | wc -l', 60_000);
        stats.kubectl.push(performance.now() - t0);
        if (r.exitCode !== 0) fail(`kubectl exited ${r.exitCode}: ${r.output.slice(-200)}`);
        nextKubectl = Date.now() + 20_000 + Math.random() * 20_000;
      }
      if (Date.now() >= nextCheck) {
        const t0 = performance.now();
        const r = await learner.request<{ outcome?: string; summary?: string }>('POST', `/api/labs/${LAB}/steps/${STEP}/check`, {});
        stats.checks.push(performance.now() - t0);
        if (r.status !== 200 || r.body.outcome !== 'passed') fail(`check: HTTP ${r.status} ${r.body.outcome ?? ''} ${r.body.summary ?? JSON.stringify(r.body).slice(0, 200)}`);
        nextCheck = Date.now() + 60_000 + Math.random() * 60_000;
      }
      if (Math.random() < 0.3) {
        const read = await learner.request('GET', Math.random() < 0.5 ? `/api/labs/${LAB}/session` : `/api/labs/${LAB}/steps/${STEP}`);
        stats.reads++;
        if (read.status !== 200) fail(`read: HTTP ${read.status}`);
      }
      if (term.closed) {
        fail(`terminal closed (${term.closed.code} ${term.closed.reason})`);
        return;
      }
    } catch (err) {
      fail(err instanceof Error ? err.message.split('\n')[0] : String(err));
    }
    await sleep(700 + Math.random() * 1000);
  }
}

test(`${LEARNERS} learners for ${SECONDS} s: no errors, flat memory and descriptors, nothing left behind`, { timeout: (SECONDS + LEARNERS * 10 + 300) * 1000 }, async (t) => {
  const served = await serve(state, { KUBELAB_INSTRUCTOR_TOKEN: 'load-teacher-token', KUBELAB_MAX_ENVIRONMENTS: String(LEARNERS + 10) });
  children.push(served.child);
  const pid = served.child.pid!;
  const stats: Stats = { errors: [], echoes: [], kubectl: [], checks: [], reads: 0 };
  const class_: Array<{ learner: Learner; term: Term }> = [];

  // the class arrives, a few at a time
  const arrivals = Array.from({ length: LEARNERS }, (_, i) => i);
  const arrive = async () => {
    for (let i = arrivals.shift(); i !== undefined; i = arrivals.shift()) {
      try {
        // a check waits its turn when the class checks at once: give it the time a browser would
        const learner = await new Learner(served.url, { localAddress: address(i), timeoutMs: 300_000 }).join(`Learner ${i}`);
        await learner.start(LAB);
        await learner.waitReady(LAB, 300_000, 100);
        const term = await learner.openTerminal(LAB);
        await term.waitFor('learner@kubelab', 30_000);
        class_.push({ learner, term });
      } catch (err) {
        stats.errors.push(`learner ${i}: arriving: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      }
    }
  };
  const arrivedAt = Date.now();
  await Promise.all(Array.from({ length: 4 }, arrive));
  t.diagnostic(`${LEARNERS} learners arrived in ${Math.round((Date.now() - arrivedAt) / 1000)} s`);

  // warm-up, everyone at once ("now check your work"): each learner's first check makes its
  // prober pod, the first kubectl fills its discovery cache; growth from those is arrival, not a leak
  await Promise.all(
    class_.map(async ({ learner, term }, i) => {
      try {
        const r = await learner.request<{ outcome?: string; summary?: string }>('POST', `/api/labs/${LAB}/steps/${STEP}/check`, {});
        if (r.status !== 200 || r.body.outcome !== 'passed') stats.errors.push(`learner ${i}: first check: HTTP ${r.status} ${r.body.outcome ?? ''} ${r.body.summary ?? ''}`);
        const k = await term.run('kubectl get pods -n shop --no-headers | wc -l', 60_000);
        if (k.exitCode !== 0) stats.errors.push(`learner ${i}: first kubectl exited ${k.exitCode}`);
      } catch (err) {
        stats.errors.push(`learner ${i}: warming up: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      }
    }),
  );

  // the steady state: sample the server while everyone works
  const samples: Array<{ at: number; rss: number; fds: number; processes: number }> = [];
  const deadline = Date.now() + SECONDS * 1000;
  const sampler = setInterval(() => samples.push({ at: Date.now(), rss: rssMiB(pid), fds: fdCount(pid), processes: descendants(pid).size }), 2000);
  await Promise.all(class_.map(({ learner, term }, i) => work(i, learner, term, deadline, stats)));
  clearInterval(sampler);

  const logErrors = served.output().split('\n').filter((l) => /"level":(50|60)/.test(l));
  if (logErrors.length) t.diagnostic(`server log errors (${logErrors.length}), first: ${logErrors.slice(0, 5).map((l) => l.slice(0, 400)).join(' | ')}`);
  t.diagnostic(
    `echo p50 ${quantile(stats.echoes, 0.5).toFixed(1)} ms p99 ${quantile(stats.echoes, 0.99).toFixed(1)} ms (${stats.echoes.length}); ` +
      `kubectl p50 ${Math.round(quantile(stats.kubectl, 0.5))} ms p99 ${Math.round(quantile(stats.kubectl, 0.99))} ms (${stats.kubectl.length}); ` +
      `checks p50 ${Math.round(quantile(stats.checks, 0.5))} ms p99 ${Math.round(quantile(stats.checks, 0.99))} ms (${stats.checks.length}); reads ${stats.reads}`,
  );
  const first = samples.slice(0, Math.max(1, Math.floor(samples.length / 4)));
  const last = samples.slice(-Math.max(1, Math.floor(samples.length / 4)));
  const med = (xs: number[]) => quantile(xs, 0.5);
  t.diagnostic(`server RSS ${med(first.map((s) => s.rss)).toFixed(0)} → ${med(last.map((s) => s.rss)).toFixed(0)} MiB, fds ${med(first.map((s) => s.fds))} → ${med(last.map((s) => s.fds))}, processes ${med(first.map((s) => s.processes))} → ${med(last.map((s) => s.processes))}`);
  assert.deepEqual(stats.errors.slice(0, 20), [], `${stats.errors.length} errors`);
  assert.equal(class_.length, LEARNERS, 'every learner arrived');
  assert.deepEqual(logErrors.slice(0, 10), [], 'no errors in the server log');
  assert.ok(stats.echoes.length > LEARNERS && stats.kubectl.length > 0 && (SECONDS < 60 || stats.checks.length >= LEARNERS / 2), 'everyone did the work');

  // flat: the last quarter of the run is not above the first quarter (beyond GC and buffer noise)
  const rssGrowth = med(last.map((s) => s.rss)) - med(first.map((s) => s.rss));
  assert.ok(rssGrowth <= Math.max(64, 0.15 * med(first.map((s) => s.rss))), `server memory grew by ${rssGrowth.toFixed(0)} MiB over the run`);
  const fdGrowth = med(last.map((s) => s.fds)) - med(first.map((s) => s.fds));
  assert.ok(fdGrowth <= Math.max(16, 0.05 * med(first.map((s) => s.fds))), `file descriptors grew by ${fdGrowth} over the run`);
  const procGrowth = med(last.map((s) => s.processes)) - med(first.map((s) => s.processes));
  assert.ok(procGrowth <= Math.max(8, 0.05 * med(first.map((s) => s.processes))), `processes grew by ${procGrowth} over the run`);

  // a clean stop leaves nothing behind
  const namespaces = namespacesOf(pid);
  const processes = descendants(pid);
  await Promise.all(class_.map(({ term }) => term.close()));
  for (const { learner } of class_) learner.close();
  served.child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => served.child.once('exit', (c) => r(c)));
  assert.equal(code, 0, served.output().slice(-2000));
  assert.deepEqual(namespaces.filter((ns) => listNamespaces().includes(ns)), [], 'no network namespace left');
  await sleep(500);
  const left = [...processes].filter(([p, start]) => alive(p, start)).map(([p]) => p);
  assert.deepEqual(left.map(commandLine), [], 'no process of the server left');
  const cgroups = shellCgroupParents().flatMap((p) => listShellCgroups(p)).filter((n) => n.startsWith(`kubelab-term-${pid}-`));
  assert.deepEqual(cgroups, [], 'no shell cgroup left');
});
