import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyCommandFailure, classifyCreateFailure, kindErrorSummary, lowInotifyLimits } from './errors.ts';

// Texts as kind v0.2x/v0.3x prints them (kind issue threads and CI logs).
const DOCKER_DOWN = `ERROR: failed to create cluster: failed to list nodes: command "docker ps -a --filter label=io.x-k8s.kind.cluster=kubelab-abc --format '{{.Names}}'" failed with error: exit status 1
Command Output: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?`;
const NEVER_BOOTED = `Creating cluster "kubelab-abc" ...
 ✓ Ensuring node image (kindest/node:v1.33.12) 🖼
 ✗ Preparing nodes 📦
Deleted nodes: ["kubelab-abc-control-plane"]
ERROR: failed to create cluster: could not find a log line that matches "Reached target .*Multi-User System.*|detected cgroup v1"`;
const TOO_MANY = `ERROR: failed to create cluster: failed to init node with kubeadm: command "docker exec --privileged kubelab-abc-control-plane kubeadm init" failed with error: exit status 1
Command Output: Failed to create control group inotify object: Too many open files`;
const EXISTS = 'ERROR: failed to create cluster: node(s) already exist for a cluster with the name "kubelab-abc"';

const goodLimits = { maxUserWatches: 524288, maxUserInstances: 512 };
const lowLimits = { maxUserWatches: 192543, maxUserInstances: 128 };

test('Docker down is reported as such, whatever command hit it', () => {
  const e = classifyCreateFailure(DOCKER_DOWN, goodLimits);
  assert.equal(e.reason, 'docker-unavailable');
  assert.match(e.message, /^Docker is not running: .*Cannot connect to the Docker daemon/);
  assert.equal(classifyCommandFailure('kind get clusters', DOCKER_DOWN).reason, 'docker-unavailable');
});

test('a node that never booted on a host with low inotify limits is an inotify failure with the fix', () => {
  const e = classifyCreateFailure(NEVER_BOOTED, lowLimits);
  assert.equal(e.reason, 'inotify-limit');
  assert.match(e.message, /fs\.inotify\.max_user_instances=128/);
  assert.match(e.message, /sysctl -w fs\.inotify\.max_user_watches=524288 fs\.inotify\.max_user_instances=512/);
});

test('the same failure on a host with good limits names both likely causes', () => {
  const e = classifyCreateFailure(NEVER_BOOTED, goodLimits);
  assert.equal(e.reason, 'create-failed');
  assert.match(e.message, /inotify/);
  assert.match(e.message, /memory/);
});

test('"too many open files" is inotify whatever the limits read', () => {
  assert.equal(classifyCreateFailure(TOO_MANY, goodLimits).reason, 'inotify-limit');
  assert.equal(classifyCreateFailure(TOO_MANY, undefined).reason, 'inotify-limit');
});

test('other failures keep kind\'s own words', () => {
  const e = classifyCreateFailure(EXISTS, goodLimits);
  assert.equal(e.reason, 'create-failed');
  assert.match(e.message, /node\(s\) already exist for a cluster with the name "kubelab-abc"/);
  assert.equal(e.detail, EXISTS);
});

test('the summary starts at the ERROR line and drops colour codes', () => {
  assert.equal(kindErrorSummary('\x1b[31mfoo\x1b[0m\nERROR: bad\nmore'), 'ERROR: bad more');
  assert.equal(kindErrorSummary(''), '');
});

test('low limits are listed by name', () => {
  assert.deepEqual(lowInotifyLimits(lowLimits), ['fs.inotify.max_user_watches=192543', 'fs.inotify.max_user_instances=128']);
  assert.deepEqual(lowInotifyLimits(goodLimits), []);
  assert.deepEqual(lowInotifyLimits(undefined), []);
});
