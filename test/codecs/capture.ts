// Records what real kubectl 1.32 sends, as test data for the codecs (run by hand, output committed):
//
//   node --import tsx test/codecs/capture.ts [/usr/lib/google-cloud-sdk/bin/kubectl.1.32]
//
// - create-<kind>.pb: the protobuf body of `kubectl create <kind> ...`, and create-<kind>.json:
//   the same object as kubectl itself prints it with --dry-run=client -o json (the oracle the
//   decoder is checked against);
// - apply-<name>.json: {gvk, live, patch} for the strategic merge patches `kubectl apply` sends
//   when a manifest changes (live = the object on the server when the patch arrived).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRecorder } from './kube-recorder.ts';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '../../server/apiserver/testdata');
const manifests = join(here, 'manifests');
const binary = process.argv[2] ?? '/usr/lib/google-cloud-sdk/bin/kubectl.1.32';
mkdirSync(out, { recursive: true });

const creates: Array<[string, string[]]> = [
  ['namespace', ['create', 'namespace', 'team-a']],
  ['deployment', ['create', 'deployment', 'web', '--image=nginx', '--port=80', '--replicas=2']],
  ['configmap', ['create', 'configmap', 'c', '--from-literal=a=b']],
  ['service', ['create', 'service', 'clusterip', 's', '--tcp=80:8080']],
  ['secret', ['create', 'secret', 'generic', 'sec', '--from-literal=password=hunter2']],
  ['serviceaccount', ['create', 'serviceaccount', 'robot']],
];

const applies: Array<[string, { group: string; version: string; kind: string }, string, string]> = [
  ['deployment', { group: 'apps', version: 'v1', kind: 'Deployment' }, 'deploy-v1.yaml', 'deploy-v2.yaml'],
  ['networkpolicy', { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' }, 'netpol-v1.yaml', 'netpol-v2.yaml'],
  ['service', { group: '', version: 'v1', kind: 'Service' }, 'svc-v1.yaml', 'svc-v2.yaml'],
];

const rec = await startRecorder();
try {
  for (const [name, args] of creates) {
    const before = rec.records.length;
    const result = await rec.kubectl(args, { binary });
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
    const post = rec.records.slice(before).find((r) => r.method === 'POST');
    if (!post || !post.contentType.startsWith('application/vnd.kubernetes.protobuf')) throw new Error(`kubectl ${args.join(' ')} sent no protobuf POST`);
    writeFileSync(join(out, `create-${name}.pb`), post.body);
    const dryRun = execFileSync(binary, [...args, '--dry-run=client', '-o', 'json'], { env: { ...process.env, KUBECONFIG: rec.kubeconfig } });
    writeFileSync(join(out, `create-${name}.json`), JSON.stringify(JSON.parse(dryRun.toString()), null, 2) + '\n');
  }
  rec.objects.clear();
  for (const [name, gvk, v1, v2] of applies) {
    for (const [file, verb] of [[v1, 'created'], [v2, 'configured'], [v2, 'unchanged']]) {
      const before = rec.records.length;
      const liveBefore = structuredClone([...rec.objects.values()]);
      const result = await rec.kubectl(['apply', '-f', join(manifests, file)], { binary });
      if (!result.stdout.includes(verb)) throw new Error(`kubectl apply -f ${file}: expected "${verb}", got ${result.stdout}${result.stderr}`);
      const patch = rec.records.slice(before).find((r) => r.method === 'PATCH');
      if (verb === 'configured' && patch) {
        const objName = patch.path.split('/').pop();
        const live = liveBefore.find((o) => o.metadata.name === objName && o.kind === gvk.kind);
        writeFileSync(join(out, `apply-${name}.json`), JSON.stringify({ gvk, live, patch: JSON.parse(patch.body.toString()) }, null, 2) + '\n');
      }
    }
  }
  console.log(`wrote test data to ${out}`);
} finally {
  await rec.close();
}
