import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { checkPodSubnet, kindClusterConfig } from './config.ts';

const base = { podSubnet: '192.168.0.0/16', workers: 0, nodeLabels: {}, containerdConfigPatches: [] };

test('calico: default CNI off, Calico pod range, one control-plane node', () => {
  const cfg = parse(kindClusterConfig({ ...base, cni: 'calico' }));
  assert.deepEqual(cfg, {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    nodes: [{ role: 'control-plane' }],
    networking: { podSubnet: '192.168.0.0/16', disableDefaultCNI: true },
  });
});

test('kindnet keeps kind default CNI; none switches it off too', () => {
  assert.equal(parse(kindClusterConfig({ ...base, cni: 'kindnet', podSubnet: '10.244.0.0/16' })).networking.disableDefaultCNI, undefined);
  assert.equal(parse(kindClusterConfig({ ...base, cni: 'none' })).networking.disableDefaultCNI, true);
});

test('workers, node labels and containerd patches are carried to every node', () => {
  const patch = '[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"\n';
  const cfg = parse(kindClusterConfig({ ...base, cni: 'calico', workers: 2, nodeLabels: { 'kubelab.dev/owner': 'abc123' }, containerdConfigPatches: [patch] }));
  assert.deepEqual(
    cfg.nodes.map((n: { role: string }) => n.role),
    ['control-plane', 'worker', 'worker'],
  );
  for (const n of cfg.nodes) assert.deepEqual(n.labels, { 'kubelab.dev/owner': 'abc123' });
  assert.deepEqual(cfg.containerdConfigPatches, [patch]);
});

test('the config never asks kind to listen beyond loopback or to wait', () => {
  const text = kindClusterConfig({ ...base, cni: 'calico', workers: 1 });
  assert.doesNotMatch(text, /apiServerAddress|wait/);
});

test('pod subnet problems name the field', () => {
  assert.deepEqual(checkPodSubnet('podSubnet', '192.168.0.0/16'), []);
  assert.match(checkPodSubnet('podSubnet', '192.168.0.0')[0]!, /^podSubnet: "192\.168\.0\.0" is not an IPv4 CIDR/);
  assert.match(checkPodSubnet('podSubnet', '300.1.0.0/16')[0]!, /not an IPv4 CIDR/);
  assert.match(checkPodSubnet('podSubnet', '10.0.0.0/28')[0]!, /between \/8 and \/24/);
});
