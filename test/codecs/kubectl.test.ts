// Real kubectl against the codecs, through the recorder: protobuf creates, strict validation,
// three-way apply patches (a second apply of the same manifest must be "unchanged", which only
// happens when the strategic merge patch produced exactly what the manifest says), explain.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRecorder, type Recorder } from './kube-recorder.ts';

const BIN_DIR = '/usr/lib/google-cloud-sdk/bin';
const manifests = join(dirname(fileURLToPath(import.meta.url)), 'manifests');
const binary = (minor: number) => join(BIN_DIR, `kubectl.1.${minor}`);
const skip = existsSync(binary(32)) ? false : `kubectl 1.32 is not installed at ${BIN_DIR}`;

let rec: Recorder;
before(async () => {
  if (!skip) rec = await startRecorder();
});
after(async () => rec?.close());

test('kubectl create subcommands post protobuf that decodes', { skip }, async () => {
  for (const args of [
    ['create', 'namespace', 'team-a'],
    ['create', 'deployment', 'web', '--image=nginx', '--port=80', '--replicas=2'],
    ['create', 'configmap', 'c', '--from-literal=a=b'],
    ['create', 'service', 'clusterip', 's', '--tcp=80:8080'],
    ['create', 'secret', 'generic', 'sec', '--from-literal=password=hunter2'],
    ['create', 'serviceaccount', 'robot'],
  ]) {
    const out = await rec.kubectl(args, { binary: binary(32) });
    assert.equal(out.code, 0, `${args.join(' ')}: ${out.stderr}`);
    assert.match(out.stdout, / created\n$/);
  }
  assert.ok(rec.records.every((r) => r.method !== 'POST' || r.contentType.startsWith('application/vnd.kubernetes.protobuf')));
  assert.equal(rec.objects.get('apps/deployments/default/web')?.spec.replicas, 2);
  rec.objects.clear();
});

// 1.27 and 1.28 validate against /openapi/v2 (protobuf), which is not served; 1.29+ use v3.
for (const minor of [29, 32, 33]) {
  test(`kubectl 1.${minor} apply: created, configured, unchanged`, { skip: skip || (!existsSync(binary(minor)) && `kubectl 1.${minor} is not installed`) }, async () => {
    for (const [v1, v2, what] of [['deploy-v1.yaml', 'deploy-v2.yaml', 'deployment.apps/web'], ['netpol-v1.yaml', 'netpol-v2.yaml', 'networkpolicy.networking.k8s.io/api-allow'], ['svc-v1.yaml', 'svc-v2.yaml', 'service/api']]) {
      for (const [file, verb] of [[v1, 'created'], [v2, 'configured'], [v2, 'unchanged']]) {
        const out = await rec.kubectl(['apply', '-f', join(manifests, file)], { binary: binary(minor) });
        assert.equal(out.stdout, `${what} ${verb}\n`, `apply ${file}: ${out.stderr}`);
      }
    }
    rec.objects.clear();
  });
}

test('kubectl apply of an unknown field fails with the strict decoding error', { skip }, async () => {
  const out = await rec.kubectl(['apply', '-f', join(manifests, 'bad-pod.yaml')], { binary: binary(32) });
  assert.equal(out.code, 1);
  assert.match(out.stderr, /Error from server \(BadRequest\): error when creating ".*bad-pod.yaml": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers\[0\].imagePullPolcy"/);
});

test('kubectl explain reads descriptions from the OpenAPI documents', { skip }, async () => {
  const spec = await rec.kubectl(['explain', 'networkpolicy.spec'], { binary: binary(32) });
  assert.equal(spec.code, 0, spec.stderr);
  assert.match(spec.stdout, /KIND:\s+NetworkPolicy/);
  assert.match(spec.stdout, /egress\s+<\[\]NetworkPolicyEgressRule>/);
  assert.match(spec.stdout, /podSelector\s+<LabelSelector>/);
  assert.match(spec.stdout, /ingress is a list of ingress rules/);
  const ports = await rec.kubectl(['explain', 'pod.spec.containers'], { binary: binary(32) });
  assert.equal(ports.code, 0, ports.stderr);
  assert.match(ports.stdout, /imagePullPolicy\s+<string>/);
});

test('kubectl exec over WebSocket v5: output, stdin, exit code', { skip }, async () => {
  const { createProcessRuntime } = await import('../../server/dataplane/process.ts');
  const cluster = await createProcessRuntime().attach(
    { clusterId: 'k', list: () => [], get: () => undefined, subscribe: () => () => {} },
    { podCIDR: '10.244.0.0/24', serviceCIDR: '10.96.0.0/12', dnsServiceIP: '10.96.0.10', clusterDomain: 'cluster.local', nodeName: 'n', externalHosts: [] },
    { containerExited: () => {}, log: () => {} },
  );
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] }, status: { phase: 'Running' } };
  await cluster.startPod(pod);
  const execRec = await startRecorder({
    stream: (req) => cluster.exec({ namespace: req.namespace, pod: req.pod, container: req.container }, { command: req.command, tty: req.tty, stdin: req.stdin, stdout: true, stderr: !req.tty }),
  });
  try {
    execRec.objects.set('/pods/default/web', pod);
    const hi = await execRec.kubectl(['exec', 'web', '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 3'], { binary: binary(32) });
    assert.equal(hi.stdout, 'hi\n');
    assert.match(hi.stderr, /oops\n/);
    assert.match(hi.stderr, /command terminated with exit code 3/);
    assert.equal(hi.code, 3);
    const cat = await execRec.kubectl(['exec', '-i', 'web', '--', 'cat'], { binary: binary(32), input: 'hello\n' });
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, 'hello\n');
    const missing = await execRec.kubectl(['exec', 'web', '--', 'no-such-tool'], { binary: binary(32) });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /executable file not found in \$PATH/);
  } finally {
    await execRec.close();
    await cluster.dispose();
  }
});
