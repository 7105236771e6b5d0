// The write path: defaults, validation as a 422 Status, namespace admission, optimistic
// concurrency, status subresources, graceful deletion and ClusterIP allocation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from './errors.ts';
import { ObjectService } from './objects.ts';
import { mustResource } from './resources.ts';
import { ObjectStore, thaw } from './store.ts';
import type { KubeObject } from './runtime.ts';

const network = { podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/16', dnsServiceIP: '10.96.0.10', clusterDomain: 'cluster.local', nodeName: 'node', externalHosts: [] };

function service(): ObjectService {
  const s = new ObjectService(new ObjectStore(), network, () => Date.parse('2025-01-01T00:00:00Z'));
  s.create(mustResource('namespaces'), undefined, { metadata: { name: 'default' } });
  return s;
}

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  assert.fail('expected an ApiError');
}

const pods = mustResource('pods');
const netpols = mustResource('networkpolicies');
const services = mustResource('services');

test('a created pod carries identity and server defaults', () => {
  const s = service();
  const p = s.create(pods, 'default', { metadata: { name: 'web' }, spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }] }] } }) as any;
  assert.equal(p.apiVersion, 'v1');
  assert.equal(p.kind, 'Pod');
  assert.match(p.metadata.uid, /^[0-9a-f-]{36}$/);
  assert.equal(p.metadata.creationTimestamp, '2025-01-01T00:00:00Z');
  assert.equal(p.spec.restartPolicy, 'Always');
  assert.equal(p.spec.dnsPolicy, 'ClusterFirst');
  assert.equal(p.spec.serviceAccountName, 'default');
  assert.equal(p.spec.containers[0].imagePullPolicy, 'Always');
  assert.equal(p.spec.containers[0].ports[0].protocol, 'TCP');
  assert.equal(p.status.phase, 'Pending');
  const named = s.create(pods, 'default', { metadata: { generateName: 'job-' } as unknown as KubeObject['metadata'], spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } }) as any;
  assert.match(named.metadata.name, /^job-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.equal(named.spec.containers[0].imagePullPolicy, 'IfNotPresent');
});

test('validation failures are 422 Invalid with kube-apiserver wording and causes', () => {
  const s = service();
  const e = apiError(() => s.create(netpols, 'default', { metadata: { name: 'np' }, spec: { podSelector: {}, policyTypes: ['egress'] } }));
  assert.equal(e.code, 422);
  assert.equal(e.reason, 'Invalid');
  assert.equal(e.message, 'NetworkPolicy.networking.k8s.io "np" is invalid: spec.policyTypes[0]: Unsupported value: "egress": supported values: "Ingress", "Egress"');
  assert.deepEqual(e.details, {
    name: 'np',
    kind: 'NetworkPolicy',
    group: 'networking.k8s.io',
    causes: [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: "egress": supported values: "Ingress", "Egress"', field: 'spec.policyTypes[0]' }],
  });
  const p = apiError(() => s.create(pods, 'default', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }, { name: 'c', image: 'x' }] } }));
  assert.equal(p.message, 'Pod "p" is invalid: [spec.containers[0].image: Required value, spec.containers[1].name: Duplicate value: "c"]');
  const n = apiError(() => s.create(pods, 'default', { metadata: { name: 'Bad_Name' }, spec: { containers: [{ name: 'c', image: 'x' }] } }));
  assert.match(n.message, /^Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  const svc = apiError(() => s.create(services, 'default', { metadata: { name: '1svc' }, spec: { ports: [{ port: 80 }] } }));
  assert.match(svc.message, /metadata.name: Invalid value: "1svc": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character/);
});

test('namespaces must exist and be active; names are unique', () => {
  const s = service();
  const e = apiError(() => s.create(pods, 'nope', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } }));
  assert.equal(e.code, 404);
  assert.equal(e.message, 'namespaces "nope" not found');
  s.create(pods, 'default', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  const dup = apiError(() => s.create(pods, 'default', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } }));
  assert.equal(dup.code, 409);
  assert.equal(dup.message, 'pods "p" already exists');
  const mismatch = apiError(() => s.create(pods, 'default', { metadata: { name: 'q', namespace: 'other' }, spec: { containers: [{ name: 'c', image: 'x' }] } }));
  assert.equal(mismatch.code, 400);
});

test('updates: resourceVersion conflicts, immutable pod spec, status kept, generation bumped on spec change', () => {
  const s = service();
  const created = s.create(netpols, 'default', { metadata: { name: 'np' }, spec: { podSelector: {} } });
  assert.equal(created.metadata.generation, 1);
  const stale = thaw(created);
  const edited = thaw(created) as any;
  edited.spec.podSelector = { matchLabels: { app: 'web' } };
  const updated = s.update(netpols, 'default', 'np', edited);
  assert.equal(updated.metadata.generation, 2);
  const c = apiError(() => s.update(netpols, 'default', 'np', stale));
  assert.equal(c.code, 409);
  assert.equal(c.message, 'Operation cannot be fulfilled on networkpolicies.networking.k8s.io "np": the object has been modified; please apply your changes to the latest version and try again');
  const same = s.update(netpols, 'default', 'np', thaw(updated));
  assert.equal(same.metadata.resourceVersion, updated.metadata.resourceVersion, 'a no-op update writes nothing');

  const pod = s.create(pods, 'default', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  const changed = thaw(pod) as any;
  changed.spec.containers[0].ports = [{ containerPort: 80 }];
  assert.match(apiError(() => s.update(pods, 'default', 'p', changed)).message, /^Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than/);
  const image = thaw(pod) as any;
  image.spec.containers[0].image = 'y';
  image.status = { phase: 'Running' };
  const u = s.update(pods, 'default', 'p', image) as any;
  assert.equal(u.spec.containers[0].image, 'y');
  assert.equal(u.status.phase, 'Pending', 'the main resource cannot change status');
  const st = thaw(u);
  st.status = { phase: 'Running' };
  assert.equal((s.update(pods, 'default', 'p', st, { subresource: 'status' }) as any).status.phase, 'Running');
});

test('deletion: scheduled pods terminate gracefully, others go at once; dry runs change nothing', () => {
  const s = service();
  s.create(pods, 'default', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  assert.equal(s.delete(pods, 'default', 'p').removed, true, 'an unscheduled pod is deleted at once');
  s.create(pods, 'default', { metadata: { name: 'q' }, spec: { nodeName: 'node', containers: [{ name: 'c', image: 'x' }] } });
  const r = s.delete(pods, 'default', 'q');
  assert.equal(r.removed, false);
  assert.equal(r.object.metadata.deletionGracePeriodSeconds, 30);
  assert.ok(r.object.metadata.deletionTimestamp);
  assert.equal(s.delete(pods, 'default', 'q', { gracePeriodSeconds: 0 }).removed, true);
  s.create(netpols, 'default', { metadata: { name: 'np' }, spec: { podSelector: {} } });
  s.delete(netpols, 'default', 'np', { dryRun: true });
  assert.ok(s.find(netpols, 'default', 'np'));
  const pre = apiError(() => s.delete(netpols, 'default', 'np', { preconditions: { uid: 'other' } }));
  assert.equal(pre.code, 409);
  assert.equal(apiError(() => s.delete(mustResource('namespaces'), undefined, 'default')).message, 'namespaces "default" is forbidden: this namespace may not be deleted');
});

test('services get a ClusterIP from the service CIDR; a requested one must be free and in range', () => {
  const s = service();
  const a = s.create(services, 'default', { metadata: { name: 'a' }, spec: { selector: { app: 'a' }, ports: [{ port: 80, targetPort: 'http' }] } }) as any;
  assert.match(a.spec.clusterIP, /^10\.96\.\d+\.\d+$/);
  assert.deepEqual(a.spec.clusterIPs, [a.spec.clusterIP]);
  assert.equal(a.spec.ports[0].protocol, 'TCP');
  assert.equal(a.spec.ports[0].targetPort, 'http');
  const b = s.create(services, 'default', { metadata: { name: 'b' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 53 }] } }) as any;
  assert.equal(b.spec.clusterIP, '10.96.0.10');
  assert.equal(b.spec.ports[0].targetPort, 53);
  assert.match(apiError(() => s.create(services, 'default', { metadata: { name: 'c' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 53 }] } })).message, /provided IP is already allocated/);
  assert.match(apiError(() => s.create(services, 'default', { metadata: { name: 'd' }, spec: { clusterIP: '192.168.0.1', ports: [{ port: 53 }] } })).message, /provided IP is not in the valid range. The range of valid IPs is 10.96.0.0\/16/);
  const np = s.create(services, 'default', { metadata: { name: 'np' }, spec: { type: 'NodePort', selector: { app: 'a' }, ports: [{ port: 80 }] } }) as any;
  assert.ok(np.spec.ports[0].nodePort >= 30000 && np.spec.ports[0].nodePort <= 32767);
  assert.equal(np.spec.externalTrafficPolicy, 'Cluster');
  const taken = np.spec.ports[0].nodePort;
  assert.match(apiError(() => s.create(services, 'default', { metadata: { name: 'np2' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: taken }] } })).message, /spec.ports\[0\].nodePort: Invalid value: \d+: provided port is already allocated/);
  assert.match(apiError(() => s.create(services, 'default', { metadata: { name: 'np3' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] } })).message, /provided port is not in the valid range. The range of valid ports is 30000-32767/);
  const again = thaw(np);
  delete again.spec.ports[0].nodePort;
  again.metadata.labels = { x: 'y' };
  assert.equal((s.update(services, 'default', 'np', again) as any).spec.ports[0].nodePort, taken, 'an update keeps the node port');
  const headless = s.create(services, 'default', { metadata: { name: 'h' }, spec: { clusterIP: 'None', selector: { app: 'h' } } }) as any;
  assert.equal(headless.spec.clusterIP, 'None');
});

test('deployments validate that the selector matches the template', () => {
  const s = service();
  const e = apiError(() =>
    s.create(mustResource('deployments'), 'default', {
      metadata: { name: 'd' },
      spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    } as KubeObject),
  );
  assert.equal(e.message, 'Deployment.apps "d" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"b"}: `selector` does not match template `labels`');
});

test('a cluster refuses objects past its limits, worded like a ResourceQuota refusal', () => {
  const s = new ObjectService(new ObjectStore(), network, () => 0, { pods: 2, objects: 5 });
  s.create(mustResource('namespaces'), undefined, { metadata: { name: 'default' } });
  for (const n of ['a', 'b']) s.create(pods, 'default', { metadata: { name: n }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  const e = apiError(() => s.create(pods, 'default', { metadata: { name: 'c' }, spec: { containers: [{ name: 'c', image: 'x' }] } }));
  assert.equal(e.code, 403);
  assert.equal(e.message, 'pods "c" is forbidden: exceeded quota: kubelab-cluster-limits, requested: pods=1, used: pods=2, limited: pods=2');
  s.create(mustResource('configmaps'), 'default', { metadata: { name: 'x' } });
  s.create(mustResource('configmaps'), 'default', { metadata: { name: 'y' } });
  assert.match(apiError(() => s.create(mustResource('configmaps'), 'default', { metadata: { name: 'z' } })).message, /exceeded quota: kubelab-cluster-limits, requested: count\/objects=1, used: count\/objects=5, limited: count\/objects=5/);
});
