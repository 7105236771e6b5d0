// When a solution's or a step's workloads count as in place: a finished rollout, as
// `kubectl rollout status` decides, not merely some ready replicas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rolledOut } from './apply.ts';

const deployment = (generation: number, status: Record<string, number>, replicas = 1) => ({ metadata: { name: 'checkout-api', generation }, spec: { replicas }, status });

test('a Deployment being updated is not rolled out while its old pod still serves', () => {
  // the update was just applied: the controller has not seen it, the old replica is ready
  assert.equal(rolledOut('Deployment', deployment(2, { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 })), false);
  // seen: the new pod is coming up beside the old one
  assert.equal(rolledOut('Deployment', deployment(2, { observedGeneration: 2, replicas: 2, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 })), false);
  // the new pod is ready but the old one is not gone yet
  assert.equal(rolledOut('Deployment', deployment(2, { observedGeneration: 2, replicas: 2, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 })), false);
  // done
  assert.equal(rolledOut('Deployment', deployment(2, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 })), true);
});

test('a new Deployment is rolled out once all its replicas are available', () => {
  assert.equal(rolledOut('Deployment', deployment(1, {}, 2)), false);
  assert.equal(rolledOut('Deployment', deployment(1, { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 }, 2)), false);
  assert.equal(rolledOut('Deployment', deployment(1, { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }, 2)), true);
  // scaled to zero
  assert.equal(rolledOut('Deployment', deployment(3, { observedGeneration: 3 }, 0)), true);
});

test('a ReplicaSet is in place when it has exactly its ready replicas', () => {
  const rs = (status: Record<string, number>) => ({ metadata: { name: 'rs', generation: 1 }, spec: { replicas: 2 }, status });
  assert.equal(rolledOut('ReplicaSet', rs({ observedGeneration: 1, replicas: 2, readyReplicas: 1 })), false);
  assert.equal(rolledOut('ReplicaSet', rs({ observedGeneration: 1, replicas: 3, readyReplicas: 2 })), false);
  assert.equal(rolledOut('ReplicaSet', rs({ observedGeneration: 1, replicas: 2, readyReplicas: 2 })), true);
});
