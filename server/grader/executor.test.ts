// The batch script run by a real sh, with stand-in dig/nc/curl on PATH that print recorded
// outputs (no packet leaves this machine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpCommand, lookupCommand, tcpCommand, udpCommand } from './commands.ts';
import { addressPlaceholder, argumentBatches, batchScript, MAX_ARGUMENT_SCRIPT, parseBatchOutput, scriptExecutor, scriptInput, scriptReader, shellWord, type ProbeSteps } from './executor.ts';
import type { ExecResult } from './exec.ts';
import type { SourcePod } from './probe.ts';

async function withTools(fn: (run: (script: string, input?: string) => ExecResult, events: () => string[]) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-executor-test-'));
  try {
    const tool = (name: string, body: string) => {
      writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
    };
    // dig: known names resolve, others are NXDOMAIN (empty +short output)
    // slow.shop answers as api.shop does, after a pause, and records when it began and ended
    tool(
      'dig',
      `for a; do case "$a" in api.shop.svc.cluster.local.) echo 10.96.0.20; exit 0;; web.shop.svc.cluster.local.) echo 10.96.0.21; exit 0;; slow.shop.svc.cluster.local.) echo "dig begins" >> "${dir}/events"; sleep 0.3; echo "dig ends" >> "${dir}/events"; echo 10.96.0.20; exit 0;; esac; done; exit 0`,
    );
    // nc: 10.96.0.20 answers, 10.96.0.21 drops (after 1 s), anything else refuses; records its argv
    tool('nc', `echo "$@" >> "${dir}/nc.log"; echo "nc $*" >> "${dir}/events"; for a; do last2=$last; last=$a; done
case "$last2" in 10.96.0.20) echo "Connection to $last2 $last port [tcp/*] succeeded!" >&2; exit 0;; 10.96.0.21) sleep 1; echo "nc: connect to $last2 port $last (tcp) timed out: Operation now in progress" >&2; exit 1;; esac
echo "nc: connect to $last2 port $last (tcp) failed: Connection refused" >&2; exit 1`);
    tool('curl', `printf 200; exit 0`);
    await fn(
      (script, input) => {
        const r = spawnSync('sh', ['-c', script], { input, encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin` } });
        return { exitCode: r.status ?? 1, stdout: r.stdout, stderr: r.stderr, elapsedMs: 0 };
      },
      () => (existsSync(join(dir, 'events')) ? readFileSync(join(dir, 'events'), 'utf8').trim().split('\n') : []),
    );
    const log = spawnSync('cat', [join(dir, 'nc.log')], { encoding: 'utf8' }).stdout;
    assert.ok(!log.includes(addressPlaceholder), 'the placeholder never reaches a tool');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const lookupThen = (name: string, port: number): ProbeSteps => ({ lookup: lookupCommand(name, 1), connect: tcpCommand(addressPlaceholder, port, 1) });

test('probes from one pod run side by side in one script, each with its own lookup and connection', async () => {
  await withTools((run) => {
    const items: ProbeSteps[] = [
      lookupThen('api.shop.svc.cluster.local.', 8080),
      lookupThen('web.shop.svc.cluster.local.', 80),
      lookupThen('nosuch.shop.svc.cluster.local.', 80),
      { connect: tcpCommand('10.244.0.9', 9090, 1) },
      { lookup: lookupCommand('api.shop.svc.cluster.local.', 1) },
    ];
    const started = Date.now();
    const r = run(batchScript(items));
    assert.ok(Date.now() - started < 1900, 'the drop is waited for once, not once per probe');
    const results = parseBatchOutput(r.stdout, items.length);
    assert.deepEqual(results[0].ip, '10.96.0.20');
    assert.equal(results[0].connect?.exitCode, 0);
    assert.match(results[0].connect?.stdout ?? '', /succeeded/);
    assert.equal(results[1].connect?.exitCode, 1);
    assert.match(results[1].connect?.stdout ?? '', /timed out/);
    assert.equal(results[2].lookup?.stdout, '');
    assert.equal(results[2].connect, undefined, 'no connection without an address');
    assert.match(results[3].connect?.stdout ?? '', /Connection refused/);
    assert.equal(results[3].ip, undefined);
    assert.equal(results[4].lookup?.stdout, '10.96.0.20');
    assert.equal(results[4].connect, undefined);
  });
});

test('HTTP and UDP commands keep the looked-up address in every place it appears', async () => {
  await withTools((run) => {
    const http: ProbeSteps = { lookup: lookupCommand('api.shop.svc.cluster.local.', 1), connect: httpCommand(addressPlaceholder, 8080, '/health', 1, { host: 'api.shop.svc.cluster.local' }) };
    const udp: ProbeSteps = { lookup: lookupCommand('api.shop.svc.cluster.local.', 1), connect: udpCommand(addressPlaceholder, 514, 1) };
    const [h, u] = parseBatchOutput(run(batchScript([http, udp])).stdout, 2);
    assert.equal(h.connect?.stdout, '200');
    assert.equal(u.ip, '10.96.0.20');
  });
});

test('a name that should give a known address: the connection starts with the lookup and counts when the lookup agrees', async () => {
  await withTools((run, events) => {
    const expected: ProbeSteps = { ...lookupThen('slow.shop.svc.cluster.local.', 8080), expectedAddress: '10.96.0.20' };
    const [r] = parseBatchOutput(run(batchScript([expected])).stdout, 1);
    assert.equal(r.lookup?.stdout, '10.96.0.20');
    assert.equal(r.ip, '10.96.0.20');
    assert.equal(r.connect?.exitCode, 0);
    assert.match(r.connect?.stdout ?? '', /succeeded/);
    const log = events();
    assert.deepEqual(
      log.filter((e) => e.startsWith('nc')),
      ['nc -vz -w 1 10.96.0.20 8080'],
      'one connection, not a second after the lookup',
    );
    assert.ok(log.indexOf('nc -vz -w 1 10.96.0.20 8080') < log.indexOf('dig ends'), `the connection began before the lookup ended: ${log.join(' | ')}`);
  });
});

test('a lookup that gives another address than expected: the connection goes to the address it gave', async () => {
  await withTools((run, events) => {
    const moved: ProbeSteps = { ...lookupThen('slow.shop.svc.cluster.local.', 8080), expectedAddress: '10.96.0.99' };
    const gone: ProbeSteps = { ...lookupThen('nosuch.shop.svc.cluster.local.', 8080), expectedAddress: '10.96.0.20' };
    const [m, g] = parseBatchOutput(run(batchScript([moved, gone])).stdout, 2);
    assert.equal(m.ip, '10.96.0.20');
    assert.equal(m.connect?.exitCode, 0, 'the result is that of the looked-up address (10.96.0.99 refuses)');
    assert.ok(events().includes('nc -vz -w 1 10.96.0.20 8080'));
    assert.equal(g.lookup?.stdout, '');
    assert.equal(g.connect, undefined, 'no connection result without an address, even though one was tried early');
    assert.equal(g.ip, undefined);
  });
});

test('an expected address that is not IPv4 is not tried early', () => {
  const script = batchScript([{ ...lookupThen('api.shop.svc.cluster.local.', 8080), expectedAddress: "10.0.0.1'; touch /tmp/x; '" }]);
  assert.ok(!script.includes('/tmp/x'));
});

test('shell quoting: arguments stay single words, quotes cannot break out', async () => {
  assert.equal(shellWord(`it's`), `'it'\\''s'`);
  assert.equal(shellWord(`http://${addressPlaceholder}:80/`), `http://"$IP":80/`);
  assert.equal(shellWord('a b'), `'a b'`);
  assert.equal(shellWord(''), `''`);
  for (const word of ['$(touch x)', '`x`', '*', 'a;b', 'a|b', '~', 'a&b', '!x', 'x\ny']) assert.match(shellWord(word), /^'.*'$/s, word);
  await withTools((run) => {
    const evil: ProbeSteps = { lookup: lookupCommand(`x'; touch /tmp/kubelab-pwned; echo '`, 1) };
    run(batchScript([evil]));
    assert.equal(spawnSync('test', ['-e', '/tmp/kubelab-pwned']).status, 1);
  });
});

test('the script executor gathers concurrent probes from one pod into one exec', async () => {
  const calls: string[] = [];
  const source: SourcePod = { namespace: 'shop', pod: 'p', container: 'c', ip: '10.244.0.5', display: 'shop/p' };
  await withTools(async (run) => {
    const exec = scriptExecutor(async (_s, cmd) => {
      calls.push(cmd.argv[0]);
      return run(cmd.argv[2]);
    });
    const [a, b] = await Promise.all([exec(source, lookupThen('api.shop.svc.cluster.local.', 8080)), exec(source, lookupThen('nosuch.shop.svc.cluster.local.', 80))]);
    assert.equal(a.connect?.exitCode, 0);
    assert.equal(b.connect, undefined);
    assert.deepEqual(calls, ['sh']);
  });
});

test('a batch too big for one exec URL from a learner pod becomes several execs, each result where it belongs', async () => {
  const source: SourcePod = { namespace: 'shop', pod: 'p', container: 'c', ip: '10.244.0.5', display: 'shop/p' };
  // 80 probes: a lookup of one of two names and a connection each, on its own port
  const items = Array.from({ length: 80 }, (_, i) => lookupThen(i % 2 ? 'api.shop.svc.cluster.local.' : 'nosuch-' + i + '.shop.svc.cluster.local.', 8000 + i));
  assert.ok(encodeURIComponent(batchScript(items)).length > MAX_ARGUMENT_SCRIPT, 'the whole batch would not fit');
  const sizes: number[] = [];
  await withTools(async (run) => {
    const exec = scriptExecutor(async (_s, cmd) => {
      sizes.push(encodeURIComponent(cmd.argv[2]).length);
      return run(cmd.argv[2]);
    });
    const results = await Promise.all(items.map((steps) => exec(source, steps)));
    assert.ok(sizes.length > 1, `${sizes.length} exec`);
    for (const size of sizes) assert.ok(size <= MAX_ARGUMENT_SCRIPT, `an exec of ${size} bytes`);
    results.forEach((r, i) => {
      if (i % 2) assert.match(r.connect?.stdout ?? '', new RegExp(`Connection to 10\\.96\\.0\\.20 ${8000 + i} port`), `probe ${i}`);
      else assert.equal(r.connect, undefined, `probe ${i}: its name does not resolve`);
      assert.equal(r.lookup?.exitCode, 0, `probe ${i}`);
    });
  });
  // a small batch stays one exec
  assert.deepEqual(argumentBatches(items.slice(0, 3)), [[0, 1, 2]]);
});

test('a prober gets the script as standard input, read whole before it runs', async () => {
  const source: SourcePod = { namespace: 'shop', pod: 'kubelab-probe-1', container: 'probe', ip: '10.244.0.6', display: 'shop/kubelab-probe-1', prober: true };
  const commands: Array<{ argv: string[]; stdin?: string }> = [];
  await withTools(async (run) => {
    const exec = scriptExecutor(async (_s, cmd) => {
      commands.push(cmd);
      return run(cmd.argv[2], cmd.stdin);
    });
    const a = await exec(source, lookupThen('api.shop.svc.cluster.local.', 8080));
    assert.equal(a.connect?.exitCode, 0);
    assert.deepEqual(commands.map((c) => c.argv), [['sh', '-c', scriptReader]]);
    assert.ok(commands[0].stdin?.includes('api.shop.svc.cluster.local.'));
  });
});

test('the script reader runs exactly the script it was given, and nothing when the input is cut short', () => {
  const script = `printf '%s|' "it's" 'a\\b'\necho "$(echo ünïcode)"`;
  const ok = spawnSync('sh', ['-c', scriptReader], { input: scriptInput(script), encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, "it's|a\\b|ünïcode\n");
  const [length, ...rest] = scriptInput('echo ran').split('\n');
  const cut = spawnSync('sh', ['-c', scriptReader], { input: `${Number(length) - 3}\n${rest.join('\n')}`, encoding: 'utf8' });
  assert.equal(cut.status, 125);
  assert.equal(cut.stdout, '');
  const empty = spawnSync('sh', ['-c', scriptReader], { input: '', encoding: 'utf8' });
  assert.equal(empty.status, 125);
});
