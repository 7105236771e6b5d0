import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interNodeRoutes, nodeContainers, nodeNetworks, plainCniConfig } from './plain-cni.ts';

test('the plain CNI config is ptp + host-local on the node range, masquerading, no policy plugin', () => {
  const cfg = JSON.parse(plainCniConfig('10.244.1.0/24'));
  assert.deepEqual(
    cfg.plugins.map((p: { type: string }) => p.type),
    ['ptp', 'portmap'],
  );
  assert.deepEqual(cfg.plugins[0].ipam.ranges, [[{ subnet: '10.244.1.0/24' }]]);
  assert.equal(cfg.plugins[0].ipMasq, true);
});

test('routes connect every node to every other node\'s pod range', () => {
  const nodes = [
    { metadata: { name: 'k-control-plane' }, spec: { podCIDR: '10.244.0.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.2' }] } },
    { metadata: { name: 'k-worker' }, spec: { podCIDR: '10.244.1.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.3' }] } },
    { metadata: { name: 'k-worker2' }, spec: {}, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.4' }] } },
  ];
  const { ready, missing } = nodeNetworks(nodes);
  assert.deepEqual(missing, ['node k-worker2 has no pod CIDR yet']);
  assert.deepEqual(interNodeRoutes(ready), [
    { node: 'k-control-plane', command: ['ip', 'route', 'replace', '10.244.1.0/24', 'via', '172.18.0.3'] },
    { node: 'k-worker', command: ['ip', 'route', 'replace', '10.244.0.0/24', 'via', '172.18.0.2'] },
  ]);
});

test('a lone node needs no address; containers pair by name, or trivially for one node', () => {
  const lone = nodeNetworks([{ metadata: { name: 'kubelab-control-plane' }, spec: { podCIDR: '10.244.0.0/24' } }]);
  assert.deepEqual(lone, { ready: [{ name: 'kubelab-control-plane', podCIDR: '10.244.0.0/24', internalIP: '' }], missing: [] });
  assert.deepEqual(nodeContainers(lone.ready, ['kubelab-x-control-plane']), new Map([['kubelab-control-plane', 'kubelab-x-control-plane']]));
  const two = [
    { name: 'k-control-plane', podCIDR: 'a', internalIP: '1' },
    { name: 'k-worker', podCIDR: 'b', internalIP: '2' },
  ];
  assert.equal(nodeContainers(two, ['k-control-plane', 'k-worker']) instanceof Map, true);
  assert.equal(nodeContainers(two, ['k-control-plane']), 'no node container named k-worker (kind get nodes: k-control-plane)');
});
