import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CommandOptions, CommandResult } from './command.ts';
import { runCommand } from './command.ts';
import { KindError } from './errors.ts';
import { KindCli } from './kind-cli.ts';

function recorder(results: Record<string, CommandResult> = {}) {
  const calls: Array<{ binary: string; args: string[]; stdin?: string }> = [];
  const run = async (binary: string, args: readonly string[], opts: CommandOptions): Promise<CommandResult> => {
    calls.push({ binary, args: [...args], stdin: opts.stdin });
    return results[`${binary} ${args[0]}`] ?? { code: 0, stdout: '', stderr: '' };
  };
  return { calls, cli: new KindCli({ kindBinary: 'kind', dockerBinary: 'docker', env: {}, run }) };
}

test('create cluster: config on stdin, our own kubeconfig file, pinned image, never --wait', async () => {
  const { calls, cli } = recorder();
  await cli.createCluster({ name: 'kubelab-abc', config: 'kind: Cluster\n', kubeconfigPath: '/s/kubelab-abc/kind.kubeconfig', nodeImage: 'kindest/node:v1@sha256:00', timeoutMs: 1000 });
  assert.deepEqual(calls, [
    {
      binary: 'kind',
      args: ['create', 'cluster', '--name', 'kubelab-abc', '--config', '-', '--kubeconfig', '/s/kubelab-abc/kind.kubeconfig', '--image', 'kindest/node:v1@sha256:00'],
      stdin: 'kind: Cluster\n',
    },
  ]);
});

test('a failed create is classified from kind\'s stderr', async () => {
  const { cli } = recorder({ 'kind create': { code: 1, stdout: '', stderr: 'ERROR: failed to create cluster: could not find a log line that matches "Reached target .*Multi-User System.*"' } });
  await assert.rejects(
    cli.createCluster({ name: 'n', config: '', kubeconfigPath: '/k', nodeImage: 'i', timeoutMs: 1, inotify: { maxUserWatches: 8192, maxUserInstances: 128 } }),
    (err: unknown) => err instanceof KindError && err.reason === 'inotify-limit',
  );
});

test('get clusters reads names from stdout only', async () => {
  const { cli } = recorder({ 'kind get': { code: 0, stdout: 'kind\nkubelab-a1\nkubelab-b2\n', stderr: '' } });
  assert.deepEqual(await cli.getClusters(), ['kind', 'kubelab-a1', 'kubelab-b2']);
  const empty = recorder({ 'kind get': { code: 0, stdout: '', stderr: 'No kind clusters found.\n' } });
  assert.deepEqual(await empty.cli.getClusters(), []);
});

test('docker info failing means Docker is not running', async () => {
  const { cli } = recorder({ 'docker info': { code: 1, stdout: '', stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n' } });
  await assert.rejects(cli.dockerInfo(), (err: unknown) => err instanceof KindError && err.reason === 'docker-unavailable' && err.message.startsWith('Docker is not running: Cannot connect'));
});

test('load, delete and node exec are plain argv', async () => {
  const { calls, cli } = recorder();
  await cli.loadDockerImages('kubelab-x', ['nicolaka/netshoot:v0.16', 'nginx:1.27'], 1000);
  await cli.loadDockerImages('kubelab-x', [], 1000);
  await cli.deleteCluster('kubelab-x', 1000);
  await cli.nodeExec('kubelab-x-control-plane', ['sh', '-c', 'cat > /f'], '{}', 1000);
  assert.deepEqual(
    calls.map((c) => [c.binary, ...c.args].join(' ')),
    [
      'kind load docker-image --name kubelab-x nicolaka/netshoot:v0.16 nginx:1.27',
      'kind delete cluster --name kubelab-x',
      'docker exec -i kubelab-x-control-plane sh -c cat > /f',
    ],
  );
});

test('a missing binary is a kind-missing error that says what to install', async () => {
  await assert.rejects(runCommand('/nonexistent/kind', ['version'], { timeoutMs: 5000, env: {} }), (err: unknown) => {
    assert.ok(err instanceof KindError);
    assert.equal(err.reason, 'kind-missing');
    assert.match(err.message, /^kind is not installed: "\/nonexistent\/kind" was not found on PATH\. Install kind v0\.32\.0/);
    return true;
  });
});

test('the runner passes stdin, returns the exit code, and enforces its timeout', async () => {
  const r = await runCommand('sh', ['-c', 'cat; echo err >&2; exit 3'], { stdin: 'hello', timeoutMs: 5000, env: process.env });
  assert.deepEqual(r, { code: 3, stdout: 'hello', stderr: 'err\n' });
  await assert.rejects(runCommand('sleep', ['5'], { timeoutMs: 50, env: process.env }), /did not finish within 0 s/);
});
