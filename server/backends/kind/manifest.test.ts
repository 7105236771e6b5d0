import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManifestError, imagesOf, installOrder, parseManifest, readManifestSource } from './manifest.ts';

const calicoShape = readFileSync(new URL('./testdata/calico-shape.yaml', import.meta.url), 'utf8');

test('Calico-shaped manifest: CRDs first, then identities, then workloads, PDB after its Deployment', () => {
  const ordered = installOrder(parseManifest(calicoShape, 'calico.yaml'));
  assert.deepEqual(
    ordered.map((o) => `${o.kind}/${o.metadata.name}`),
    [
      'CustomResourceDefinition/networkpolicies.crd.projectcalico.org',
      'CustomResourceDefinition/globalnetworkpolicies.crd.projectcalico.org',
      'ServiceAccount/calico-node',
      'ConfigMap/calico-config',
      'ClusterRole/calico-node',
      'DaemonSet/calico-node',
      'Deployment/calico-kube-controllers',
      'PodDisruptionBudget/calico-kube-controllers',
    ],
  );
});

test('images are found in containers and init containers, once each', () => {
  assert.deepEqual(imagesOf(parseManifest(calicoShape, 'calico.yaml')), [
    'docker.io/calico/cni:v3.32.1',
    'docker.io/calico/node:v3.32.1',
    'docker.io/calico/kube-controllers:v3.32.1',
  ]);
});

test('custom resources keep their order after every known kind', () => {
  const objs = parseManifest(
    `apiVersion: crd.projectcalico.org/v1\nkind: GlobalNetworkPolicy\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n---\napiVersion: crd.projectcalico.org/v1\nkind: IPPool\nmetadata: {name: b}\n`,
    'x.yaml',
  );
  assert.deepEqual(
    installOrder(objs).map((o) => o.metadata.name),
    ['n', 'a', 'b'],
  );
});

test('empty documents are skipped and Lists flattened', () => {
  const objs = parseManifest(`---\n# nothing\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n`, 'l.yaml');
  assert.deepEqual(
    objs.map((o) => o.metadata.name),
    ['a', 'b'],
  );
});

test('problems name the source and line', () => {
  assert.throws(() => parseManifest('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n', 'm.yaml'), (err: unknown) => {
    assert.ok(err instanceof ManifestError);
    assert.equal(err.message, 'm.yaml:5: kind is missing');
    return true;
  });
  assert.throws(() => parseManifest('kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: [unclosed\n', 'bad.yaml'), /^ManifestError: bad\.yaml:\d+: /);
  assert.throws(() => parseManifest('apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n', 'n.yaml'), /n\.yaml:1: metadata\.name is missing \(ConfigMap\)/);
  assert.throws(() => parseManifest('- a\n- b\n', 's.yaml'), /s\.yaml:1: a document must be a mapping/);
});

test('an alias bomb is refused, not expanded', () => {
  const bomb = readFileSync(new URL('./testdata/alias-bomb.yaml', import.meta.url), 'utf8');
  assert.throws(() => parseManifest(bomb, 'bomb.yaml'), /bomb\.yaml:1: .*alias/i);
});

test('__proto__ keys stay data and pollute nothing', () => {
  const [obj] = parseManifest('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  __proto__: {polluted: "yes"}\n', 'p.yaml');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.ok(obj);
});

test('a local manifest path is read as is; an unreachable URL says how to go offline', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-manifest-'));
  try {
    writeFileSync(join(dir, 'm.yaml'), calicoShape);
    assert.equal(await readManifestSource(join(dir, 'm.yaml'), join(dir, 'cache')), calicoShape);
    await assert.rejects(readManifestSource(join(dir, 'missing.yaml'), join(dir, 'cache')), /cannot read manifest .*missing\.yaml/);
    await assert.rejects(readManifestSource('http://127.0.0.1:1/calico.yaml', join(dir, 'cache')), /cannot download manifest .*set calicoManifest to a local copy/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
