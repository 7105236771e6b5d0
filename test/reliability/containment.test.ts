// A learner's fork bomb or memory hog, in their shell and in a pod of their cluster, is held by
// per-learner limits (processes and memory), and another learner's shell and checks keep
// answering meanwhile. Ending the learner's environment leaves none of it running.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Learner, sleep, type Term } from './learner.ts';
import { startPlatform, type Platform } from './server.ts';

const LAB = 'first-network-policy';

/** uid (outside any user namespace) of a process, or undefined when it is gone. */
function uidOf(pid: number): number | undefined {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function processesOf(uid: number): number {
  let n = 0;
  for (const e of readdirSync('/proc')) if (/^\d+$/.test(e) && uidOf(Number(e)) === uid) n++;
  return n;
}

/** pids.current / pids.max of every cluster's cgroup (cgroup v1 pids hierarchy, or v2). */
function clusterPidCounts(): Array<{ group: string; current: number; max: string }> {
  const out: Array<{ group: string; current: number; max: string }> = [];
  const walk = (dir: string, depth: number) => {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      if (/^kubelab-[a-z0-9]{4}$/.test(e)) {
        try {
          out.push({ group: `${dir}/${e}`, current: Number(readFileSync(`${dir}/${e}/pids.current`, 'utf8')), max: readFileSync(`${dir}/${e}/pids.max`, 'utf8').trim() });
        } catch {
          // not a pids group
        }
      } else if (depth < 4 && !e.includes('.') && !e.startsWith('kubelab-term-')) {
        walk(`${dir}/${e}`, depth + 1);
      }
    }
  };
  walk(existsSync('/sys/fs/cgroup/pids') ? '/sys/fs/cgroup/pids' : '/sys/fs/cgroup', 0);
  return out;
}

describe('a learner who runs wild is contained', () => {
  let p: Platform;
  let wild: Learner;
  let calm: Learner;
  let calmTerm: Term;

  before(async () => {
    p = await startPlatform({ capacity: 10 });
    wild = await new Learner(p.url).join('Wild');
    calm = await new Learner(p.url).join('Calm');
    await Promise.all([wild.start(LAB), calm.start(LAB)]);
    await Promise.all([wild.waitReady(LAB), calm.waitReady(LAB)]);
    calmTerm = await calm.openTerminal(LAB);
    await calmTerm.waitFor('learner@kubelab');
  });
  after(async () => {
    await calmTerm?.close();
    wild?.close();
    calm?.close();
    await p?.close();
  });

  /** The calm learner's shell echoes and runs kubectl, and their check still grades. */
  async function calmStillWorks(): Promise<void> {
    const r = await calmTerm.run('echo calm-$((20+22)) && kubectl get ns shop -o name', 60_000);
    assert.equal(r.exitCode, 0, r.output);
    assert.match(r.output, /calm-42/);
    const check = await calm.request<{ outcome: string; summary: string }>('POST', `/api/labs/${LAB}/steps/look-around/check`, {});
    assert.equal(check.status, 200);
    assert.equal(check.body.outcome, 'passed', check.body.summary);
  }

  test('a fork bomb in the shell', { timeout: 180_000 }, async (t) => {
    const term = await wild.openTerminal(LAB);
    await term.waitFor('learner@kubelab');
    const session = p.server.context.terminals.all().find((s) => s.pid === term.hello!.pid)!;
    const uid = uidOf(session.pid)!;
    assert.ok(uid !== undefined);
    term.send('bomb() { bomb | bomb & }; bomb\r');
    await sleep(4000);
    const peak = processesOf(uid);
    t.diagnostic(`processes of the shell's uid ${uid} under the bomb: ${peak}`);
    assert.ok(peak <= 260, `at most the shell's process limit (256 + the shell itself): ${peak}`);
    await calmStillWorks();
    // the environment's end takes the whole bomb with it
    const envId = p.server.context.environments.envIdFor(wild.id, LAB)!;
    await p.server.context.environments.end(envId, 'disposed');
    for (let i = 0; i < 50 && processesOf(uid) > 0; i++) await sleep(100);
    assert.equal(processesOf(uid), 0, 'nothing of the bomb survives the shell');
    await term.close();
    await wild.start(LAB);
    await wild.waitReady(LAB);
  });

  test('a memory hog in the shell', { timeout: 180_000 }, async () => {
    const term = await wild.openTerminal(LAB);
    await term.waitFor('learner@kubelab');
    // the shell is in its own memory cgroup with the limit (cgroup v1 or v2)
    const session = p.server.context.terminals.all().find((s) => s.pid === term.hello!.pid)!;
    const memoryLine = readFileSync(`/proc/${session.pid}/cgroup`, 'utf8').split('\n').find((l) => /^0::|:memory:/.test(l) && l.includes('kubelab-term-'));
    assert.ok(memoryLine, `the shell is in a kubelab-term memory cgroup:\n${readFileSync(`/proc/${session.pid}/cgroup`, 'utf8')}`);
    // tail keeps the whole never-ending line in memory: 4 GiB unless something stops it
    const r = await term.run('head -c 4G /dev/zero | tail -n 1 | wc -c; echo "hog=${PIPESTATUS[1]}"', 120_000);
    assert.doesNotMatch(r.output, /4294967296/, `the hog never got its 4 GiB:\n${r.output.slice(-500)}`);
    assert.match(r.output, /hog=137\b/, `the shell's memory limit stopped the hog (SIGKILL):\n${r.output.slice(-500)}`);
    const after_ = await term.run('echo still-$((1+1))');
    assert.match(after_.output, /still-2/, 'the shell itself survives');
    await calmStillWorks();
    await term.close();
  });

  test('a fork bomb and a memory hog in a pod of the cluster', { timeout: 180_000 }, async (t) => {
    const term = await wild.openTerminal(LAB);
    await term.waitFor('learner@kubelab');
    const pods = await term.run('kubectl get pods -n shop -o name | head -1');
    const pod = /pod\/(\S+)/.exec(pods.output)?.[1];
    assert.ok(pod, pods.output);
    term.send(`kubectl exec -n shop ${pod} -- sh -c 'b() { b | b & }; b; sleep 25' >/dev/null 2>&1 &\r`);
    await sleep(5000);
    const counts = clusterPidCounts();
    t.diagnostic(`fork bomb running in a pod; processes per cluster cgroup: ${counts.map((c) => `${c.current}/${c.max}`).join(' ')}`);
    assert.ok(counts.length > 0, 'clusters run in pids cgroups');
    for (const c of counts) assert.ok(c.max !== 'max' && c.current <= Number(c.max), `a cluster stays within its pids limit: ${c.current}/${c.max}`);
    assert.ok(counts.some((c) => c.current > 100), 'the bomb is really running');
    await calmStillWorks();
    // the bomb's exec ends after its sleep, taking the bomb with it; the hog needs room to fork
    const bombed = new Set(counts.filter((c) => c.current > 100).map((c) => c.group));
    const stillBombed = () => clusterPidCounts().some((c) => bombed.has(c.group) && c.current > 100);
    for (let i = 0; i < 120 && stillBombed(); i++) await sleep(500);
    assert.ok(!stillBombed(), 'the bomb ends with its exec');
    const hog = await term.run(`kubectl exec -n shop ${pod} -- sh -c 'head -c 4G /dev/zero | tail -n 1 | wc -c'; echo "exec=$?"`, 120_000);
    assert.doesNotMatch(hog.output, /4294967296/, `the hog never got its 4 GiB:\n${hog.output.slice(-500)}`);
    assert.match(hog.output, /Killed|exec=(137|1)\b/, `the pod's memory limit stopped the hog:\n${hog.output.slice(-500)}`);
    await calmStillWorks();
    await term.close();
  });
});
