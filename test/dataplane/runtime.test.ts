// What the runtimes do for the API server besides the network: containers' main processes and
// their exits, attach, tty exec with resize, the exec sandbox, per-cluster limits, isolation
// between clusters, and reaping what a crashed server left.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryCluster } from './memory-cluster.ts';
import { planes, leftoverNamespaces } from './harness.ts';
import type { ClusterRuntime, ExecSession } from '../../server/apiserver/runtime.ts';
import { ownersDir, listNamespaces } from '../../server/dataplane/netns/names.ts';

async function collect(session: ExecSession): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  session.stdout.on('data', (d: Buffer) => (out += d.toString()));
  session.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const { exitCode } = await session.exit;
  await new Promise((r) => setImmediate(r));
  return { out, err, code: exitCode };
}

function run(rt: ClusterRuntime, pod: string, cmd: string) {
  return rt.exec({ namespace: 'default', pod, container: 'main' }, { command: ['sh', '-c', cmd], tty: false, stdin: false, stdout: true, stderr: true }).then(collect);
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const plane of planes()) {
  describe(`runtime: ${plane.name}`, { skip: plane.skip }, () => {
    const runtime = plane.skip ? undefined : plane.make();
    const clusters: MemoryCluster[] = [];
    after(async () => {
      for (const c of clusters) await c.runtime?.dispose();
    });
    async function cluster(id: string): Promise<MemoryCluster> {
      const c = new MemoryCluster(id);
      await c.attach(runtime!);
      await c.namespace('default');
      clusters.push(c);
      return c;
    }

    test('a finite main process logs and reports its exit code', async () => {
      const c = await cluster('finite');
      await c.pod('default', 'job', {}, [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo hello from job; hostname; exit 3'] }]);
      await until(() => c.exits.length > 0);
      assert.deepEqual(c.exits, [{ ref: { namespace: 'default', pod: 'job', container: 'main' }, exitCode: 3 }]);
      assert.deepEqual(c.logs.map((l) => l.line), ['hello from job', 'job']);
    });

    test('kubectl run -it: a shell as main process, attached with a tty, exits when told', async () => {
      const c = await cluster('attach');
      await c.pod('default', 'tmp-shell', {}, [{ name: 'main', image: 'nicolaka/netshoot', command: ['sh'], stdin: true, stdinOnce: true, tty: true }]);
      const session = await c.runtime!.attach({ namespace: 'default', pod: 'tmp-shell', container: 'main' }, { command: [], tty: true, stdin: true, stdout: true, stderr: false, size: { cols: 100, rows: 30 } });
      let out = '';
      session.stdout.on('data', (d: Buffer) => (out += d.toString()));
      session.stdin!.write('echo "size $(stty size)"; hostname\r');
      await until(() => /size 30 100/.test(out) && /tmp-shell/.test(out));
      session.stdin!.write('exit 0\r');
      await until(() => c.exits.length > 0);
      assert.equal(c.exits[0].exitCode, 0);
      await assert.rejects(c.runtime!.attach({ namespace: 'default', pod: 'tmp-shell', container: 'main' }, { command: [], tty: true, stdin: true, stdout: true, stderr: false }), /no running process/);
    });

    test('attach to a container with no process (sleep infinity) waits, drops input, and ends on detach or pod stop', async () => {
      const c = await cluster('idle-attach');
      await c.pod('default', 'sleeper', {}, [{ name: 'main', image: 'nicolaka/netshoot', command: ['sleep', 'infinity'] }]);
      const ref = { namespace: 'default', pod: 'sleeper', container: 'main' };
      const first = await c.runtime!.attach(ref, { command: [], tty: false, stdin: true, stdout: true, stderr: true });
      let out = '';
      first.stdout.on('data', (d: Buffer) => (out += d.toString()));
      first.stdin!.write('typed into a container without stdin\n');
      const pending = await Promise.race([first.exit.then(() => 'ended'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
      assert.equal(pending, 'waiting', 'attach stays until the client leaves');
      first.detach!();
      assert.deepEqual(await first.exit, { exitCode: 0 });
      assert.equal(out, '');
      const second = await c.runtime!.attach(ref, { command: [], tty: false, stdin: false, stdout: true, stderr: true });
      await c.remove('pods', 'default', 'sleeper');
      assert.deepEqual(await second.exit, { exitCode: 0 }, 'the pod stopping ends the session');
    });

    test('a pod\'s files persist across execs and are shared with its main process, as a container\'s writable layer', async () => {
      const c = await cluster('rootfs');
      await c.pod('default', 'box', {}, [{ name: 'main', image: 'nicolaka/netshoot', command: ['sh', '-c', 'echo from-main > /tmp/main.txt; sleep 3600'] }]);
      await c.pod('default', 'other', {}, [{ name: 'main', image: 'busybox', command: ['sleep', 'infinity'] }]);
      assert.equal((await run(c.runtime!, 'box', 'echo one > /tmp/a.txt && mkdir -p /data && echo two > /data/b.txt && echo three > /root/c.txt')).code, 0);
      const r = await run(c.runtime!, 'box', 'cat /tmp/a.txt /data/b.txt /root/c.txt; stat -c %a /tmp /var/tmp /root');
      assert.equal(r.out, 'one\ntwo\nthree\n1777\n1777\n700\n', r.err);
      for (let i = 0; i < 100 && (await run(c.runtime!, 'box', 'cat /tmp/main.txt')).out !== 'from-main\n'; i++) await new Promise((res) => setTimeout(res, 50));
      assert.equal((await run(c.runtime!, 'box', 'cat /tmp/main.txt')).out, 'from-main\n', 'the main process writes to the same root');
      const isolated = await run(c.runtime!, 'other', 'ls /tmp /data 2>&1');
      assert.doesNotMatch(isolated.out, /a\.txt|main\.txt/, 'another pod has its own root');
      // a container that removes /bin still starts the next exec
      await run(c.runtime!, 'box', 'rm /bin');
      assert.equal((await run(c.runtime!, 'box', 'cat /tmp/a.txt')).out, 'one\n');
    });

    test('an interactive exec shell exits with the status it is told, and has no capabilities', async () => {
      const c = await cluster('shell');
      await c.pod('default', 'box', {}, [{ name: 'main', image: 'busybox', command: ['sleep', 'infinity'] }]);
      const s = await c.runtime!.exec({ namespace: 'default', pod: 'box', container: 'main' }, { command: ['sh'], tty: true, stdin: true, stdout: true, stderr: false, size: { cols: 80, rows: 24 } });
      let out = '';
      s.stdout.on('data', (d: Buffer) => (out += d.toString()));
      s.stdin!.write('grep -E "^Cap(Eff|Bnd)" /proc/self/status; exit 4\r');
      assert.equal((await s.exit).exitCode, 4, out);
      if (plane.name === 'netns') assert.match(out, /CapEff:\t0000000000000000\r?\nCapBnd:\t0000000000000000/);
    });

    test('exec: tty with resize, exit codes, unknown container', async () => {
      const c = await cluster('exec');
      await c.pod('default', 'box', {}, [{ name: 'main', image: 'busybox', command: ['sleep', 'infinity'] }]);
      const s = await c.runtime!.exec({ namespace: 'default', pod: 'box', container: 'main' }, { command: ['sh', '-c', 'stty size; sleep 0.3; stty size'], tty: true, stdin: true, stdout: true, stderr: false, size: { cols: 80, rows: 24 } });
      let out = '';
      s.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await until(() => out.includes('24 80'));
      s.resize(132, 40);
      const { exitCode } = await s.exit;
      await until(() => out.includes('40 132'));
      assert.equal(exitCode, 0);
      assert.equal((await run(c.runtime!, 'box', 'exit 7')).code, 7);
      await assert.rejects(c.runtime!.exec({ namespace: 'default', pod: 'box', container: 'nope' }, { command: ['true'], tty: false, stdin: false, stdout: true, stderr: true }), /container nope is not valid for pod box/);
    });

    test('the exec sandbox shows the pod, not the server', async () => {
      const c = await cluster('sandbox');
      await c.pod('default', 'box', {}, [{ name: 'main', image: 'busybox', command: ['sleep', 'infinity'] }]);
      const caps = await run(c.runtime!, 'box', 'grep -E "^Cap(Prm|Eff|Bnd)" /proc/self/status');
      if (plane.name === 'netns') assert.equal(caps.out, 'CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n');
      const r = await run(c.runtime!, 'box', 'hostname; cat /etc/resolv.conf; ls /work /root/.ssh /run/kubelab 2>&1; ls / ; cat /proc/1/cmdline | tr "\\0" " "');
      assert.match(r.out, /^box\nsearch default\.svc\.cluster\.local svc\.cluster\.local cluster\.local\nnameserver 10\.96\.0\.10\noptions ndots:5\n/);
      assert.match(r.out, /ls: cannot access '\/work': No such file or directory/);
      assert.match(r.out, /ls: cannot access '\/root\/\.ssh': No such file or directory/);
      assert.match(r.out, /ls: cannot access '\/run\/kubelab': No such file or directory/);
      assert.doesNotMatch(r.out, /^(home|srv|opt|work)$/m);
    });

    if (plane.name === 'netns') {
      test('clusters are separate networks even with the same addresses', async () => {
        const a = await cluster('iso-a');
        const b = await cluster('iso-b');
        await a.pod('default', 'web', { app: 'web' }, [{ name: 'main', image: 'nginx' }]);
        await b.pod('default', 'other', {}, [{ name: 'main', image: 'busybox', command: ['sleep', 'infinity'] }]);
        await b.pod('default', 'client', {}, [{ name: 'main', image: 'busybox', command: ['sleep', 'infinity'] }]);
        const webIP = (a.runtime as unknown as { podAddress(ns: string, n: string): string }).podAddress('default', 'web');
        // b's first pod has web's address in b's network, and nothing listens there.
        assert.equal((b.runtime as unknown as { podAddress(ns: string, n: string): string }).podAddress('default', 'other'), webIP);
        const r = await run(b.runtime!, 'client', `nc -vz -w 1 ${webIP} 80`);
        assert.match(r.err, /Connection refused/);
        const own = await run(a.runtime!, 'web', `nc -vz -w 1 ${webIP} 80`);
        assert.match(own.err, /succeeded/);
      });

      test('the cluster pids limit stops a fork bomb', async () => {
        const c = await cluster('limits');
        await c.pod('default', 'box', {}, [{ name: 'main', image: 'busybox', command: ['sleep', 'infinity'] }]);
        const r = await run(c.runtime!, 'box', 'for i in $(seq 1 1500); do sleep 5 & done 2>/dev/null; echo started; jobs | wc -l; kill $(jobs -p) 2>/dev/null; true');
        const started = Number(r.out.trim().split('\n').pop());
        assert.ok(started < 1100, `expected the pids limit to stop forking, ${started} sleeps ran`);
      });

      test('reapLeftovers removes a dead owner\'s namespaces and never a live one\'s', async () => {
        const live = await cluster('reap-live');
        await live.pod('default', 'p', {}, [{ name: 'main', image: 'busybox', command: ['sleep', 'infinity'] }]);
        const liveTag = (live.runtime as unknown as { names: { tag: string } }).names.tag;
        const deadTag = 'zz' + String(process.pid % 100).padStart(2, '0');
        const dir = join(ownersDir(), deadTag);
        mkdirSync(dir, { recursive: true });
        // pid 1's start time never matches this record: its owner is gone.
        writeFileSync(join(dir, 'owner.json'), JSON.stringify({ pid: 1, startTime: 'gone', clusterId: 'crashed' }));
        assert.equal(spawnSync('ip', ['netns', 'add', `kubelab-${deadTag}-node`]).status, 0);
        assert.equal(spawnSync('ip', ['netns', 'add', `kubelab-${deadTag}-p1`]).status, 0);
        await runtime!.reapLeftovers();
        assert.deepEqual(leftoverNamespaces([deadTag]), []);
        assert.equal(existsSync(dir), false);
        assert.ok(leftoverNamespaces([liveTag]).length >= 3, 'the live cluster keeps its namespaces');
        assert.ok(listNamespaces().includes(`kubelab-${liveTag}-node`));
      });
    }
  });
}
