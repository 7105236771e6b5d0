import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseServeArgs, instructorToken } from './serve.ts';
import { Learner } from '../../test/reliability/learner.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** `kubelab serve ARGS` as a child: everything it prints, and its URL once it says it is serving. */
function serveChild(args: string[]): { child: ChildProcess; out: () => string; url: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/main.ts', 'serve', '--port', '0', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed:\n${out}`)), 45_000);
    child.stdout.on('data', () => {
      const m = /kubelab is serving at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code}:\n${out}`));
    });
  });
  url.catch(() => {});
  return { child, out: () => out, url };
}

test('serve arguments: defaults, values, and errors naming the flag', () => {
  assert.deepEqual(parseServeArgs([]), { port: 8080, host: '127.0.0.1', labs: 'labs', backend: 'embedded', dev: false, state: '.kubelab', warm: 2 });
  assert.deepEqual(parseServeArgs(['--port', '0', '--host=0.0.0.0', '--dev', '--backend', 'kind', '--state', 's', '--labs', 'l', '--warm', '0']), { port: 0, host: '0.0.0.0', labs: 'l', backend: 'kind', dev: true, state: 's', warm: 0 });
  assert.throws(() => parseServeArgs(['--port', '99999']), /--port: must be 0 to 65535/);
  assert.throws(() => parseServeArgs(['--backend', 'docker']), /--backend: must be embedded or kind/);
  assert.throws(() => parseServeArgs(['--state']), /--state: needs a value/);
  assert.throws(() => parseServeArgs(['--warm', '-1']), /--warm: must be a whole number from 0 to 100/);
  assert.throws(() => parseServeArgs(['--bogus']), /unknown flag --bogus/);
});

test('the instructor token comes from the environment, else is generated once and kept private', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-token-'));
  const saved = process.env.KUBELAB_INSTRUCTOR_TOKEN;
  try {
    delete process.env.KUBELAB_INSTRUCTOR_TOKEN;
    const first = instructorToken(dir);
    assert.equal(first.generated, true);
    assert.equal(statSync(join(dir, 'config.json')).mode & 0o777, 0o600);
    const second = instructorToken(dir);
    assert.equal(second.token, first.token);
    assert.equal(second.generated, false);
    process.env.KUBELAB_INSTRUCTOR_TOKEN = 'from-env-token';
    assert.equal(instructorToken(dir).token, 'from-env-token');
    assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).instructorToken, first.token);
  } finally {
    if (saved === undefined) delete process.env.KUBELAB_INSTRUCTOR_TOKEN;
    else process.env.KUBELAB_INSTRUCTOR_TOKEN = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kubelab serve starts, serves the catalogue, hands out environments kept ready, and stops cleanly on SIGTERM', { timeout: 120_000 }, async () => {
  const state = mkdtempSync(join(tmpdir(), 'kubelab-serve-'));
  const served = serveChild(['--state', state, '--warm', '1']);
  const { child } = served;
  try {
    const url = await served.url;
    assert.match(served.out(), /instructor token/);
    assert.match(served.out(), /terminal sandbox: /);
    const labs = (await (await fetch(`${url}/api/labs`)).json()) as Array<{ id: string; title: string }>;
    assert.ok(Array.isArray(labs) && labs.length >= 1, 'the catalogue lists the shipped labs');
    assert.ok(labs.every((l) => typeof l.id === 'string' && typeof l.title === 'string'));
    const index = await fetch(`${url}/`);
    assert.equal(index.status, 200);

    // one environment of each lab is made ready before anyone asks; a learner starting the lab
    // gets it at once, and another is built in its place
    assert.match(served.out(), /1 environment kept ready per lab/);
    const warmReady = () => served.out().split('\n').filter((l) => l.includes('warm environment ready for network-policies')).length;
    const until = async (what: string, ok: () => boolean) => {
      for (const start = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 50))) {
        if (Date.now() - start > 60_000) throw new Error(`${what} did not happen:\n${served.out()}`);
      }
    };
    await until('a warm environment', () => warmReady() === 1);
    assert.match(await (await fetch(`${url}/metrics`)).text(), /^kubelab_warm_environments\{lab="network-policies"\} 1$/m);
    const learner = await new Learner(url).join('Warm Start');
    try {
      await learner.start('network-policies');
      await learner.waitReady('network-policies', 10_000);
      const ready = served.out().split('\n').filter((l) => l.includes('"environment ready"'));
      assert.equal(ready.length, 1, served.out());
      await until('the replacement warm environment', () => warmReady() === 2);
    } finally {
      learner.close();
    }
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, served.out());
  } finally {
    child.kill('SIGKILL');
    rmSync(state, { recursive: true, force: true });
  }
});

test('kubelab serve --dev reloads a lab when its file changes', { timeout: 60_000 }, async () => {
  const state = mkdtempSync(join(tmpdir(), 'kubelab-serve-dev-'));
  const labs = join(state, 'labs');
  cpSync(join(root, 'labs'), labs, { recursive: true });
  const labDir = join(labs, 'example');
  const served = serveChild(['--dev', '--labs', labs, '--state', join(state, 'state')]);
  const { child } = served;
  try {
    const url = await served.url;
    assert.match(served.out(), /dev mode/);
    const file = join(labDir, 'lab.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^title: .*$/m, 'title: Edited while serving'));
    const start = Date.now();
    let titles: string[] = [];
    while (Date.now() - start < 10_000) {
      titles = ((await (await fetch(`${url}/api/labs`)).json()) as Array<{ title: string }>).map((l) => l.title);
      if (titles.includes('Edited while serving')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(titles.includes('Edited while serving'), `titles now: ${titles.join(', ')}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(state, { recursive: true, force: true });
  }
});
