// The real kubectl in a real terminal against an embedded cluster, for what a learner does inside
// pods: an interactive shell from `kubectl run -it --rm` without job-control noise, `kubectl attach`
// to a container that only sleeps, and `kubectl cp` in and out of a pod's filesystem.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findKubectl, startHarness, type Harness } from './harness.ts';

const found = findKubectl();
const skip = 'skip' in found ? found.skip : false;

/** What a shell prints when it could not take the terminal (bash, dash, busybox ash). */
const TTY_NOISE = /can't access tty|job control turned off|Cannot set tty process group|no job control in this shell|cannot set terminal process group/;

describe('kubectl: shells, attach and cp in pods', { skip }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness('path' in found ? found.path : 'kubectl');
  });
  after(async () => {
    await h?.close();
  });

  for (const [image, shell] of [
    ['busybox', 'sh'],
    ['nicolaka/netshoot', 'bash'],
  ]) {
    test(`run -it --rm --image=${image} -- ${shell}: job control works and nothing complains about the tty`, async () => {
      const name = `t-${shell}`;
      const r = await h.kubectl.interactive(
        ['run', '-it', '--rm', name, `--image=${image}`, '--restart=Never', '--', shell],
        [
          { after: /try pressing enter\./, type: 'sleep 0.2 & jobs; wait; echo done-$((6*7))\r' },
          { after: /done-42/, type: 'exit\r' },
        ],
      );
      assert.doesNotMatch(r.output, TTY_NOISE);
      assert.match(r.output, /\[1\] ?\+ +Running +sleep 0\.2/);
      assert.match(r.output, new RegExp(`pod "${name}" deleted`));
      assert.doesNotMatch(r.output, /terminated \(Error\)/, 'exit ends the shell with status 0');
      assert.equal(r.code, 0, r.output);
    });
  }

  test('attach to a pod running sleep infinity waits; Ctrl-C detaches and the pod keeps running', async () => {
    await h.kubectl.ok(['run', 'sleeper', '--image=nicolaka/netshoot', '--', 'sleep', 'infinity']);
    await h.kubectl.ok(['wait', '--for=condition=Ready', 'pod/sleeper', '--timeout=30s']);
    // typing nothing: attach must still be open when the terminal is given up on (a refused attach exits at once)
    const idle = await h.kubectl.interactive(['attach', 'sleeper'], [], 5_000).then(
      (done) => `ended by itself (exit ${done.code}): ${done.output}`,
      (e: Error) => (/timed out/.test(e.message) ? 'still attached' : e.message),
    );
    assert.equal(idle, 'still attached');
    const ctrlC = await h.kubectl.interactive(['attach', 'sleeper'], [{ after: /try pressing enter\./, type: '\x03' }], 20_000);
    assert.doesNotMatch(ctrlC.output, /error|no running process/i, ctrlC.output);
    const phase = await h.kubectl.ok(['get', 'pod', 'sleeper', '-o', 'jsonpath={.status.phase}']);
    assert.equal(phase, 'Running');
  });

  test('cp into a pod persists for exec, and cp out returns what the pod wrote', async () => {
    await h.kubectl.ok(['wait', '--for=condition=Ready', 'pod/sleeper', '--timeout=30s']);
    const local = h.kubectl.write('notes.txt', 'copied in\n');
    await h.kubectl.ok(['cp', local, 'sleeper:/tmp/notes.txt']);
    assert.equal(await h.kubectl.ok(['exec', 'sleeper', '--', 'cat', '/tmp/notes.txt']), 'copied in\n');
    await h.kubectl.ok(['exec', 'sleeper', '--', 'sh', '-c', 'mkdir -p /data && echo written inside > /data/out.txt']);
    await h.kubectl.ok(['cp', 'sleeper:/data/out.txt', 'out.txt']);
    assert.equal(readFileSync(join(h.kubectl.dir, 'out.txt'), 'utf8'), 'written inside\n');
  });
});
