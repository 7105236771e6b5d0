// Which pods a Service forwards to, as kube-proxy reads EndpointSlices: ready ones only (the pod's
// Ready condition, not being deleted), every addressed pod with publishNotReadyAddresses, and for
// a selector-less Service the Endpoints object's addresses but never its notReadyAddresses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterStateView, KubeObject } from '../apiserver/runtime.ts';
import { runningPods, serviceInfos } from './cluster-model.ts';

function view(objects: Record<string, KubeObject[]>): ClusterStateView {
  return {
    clusterId: 't',
    list: (resource, namespace) => (objects[resource] ?? []).filter((o) => namespace === undefined || o.metadata.namespace === namespace),
    get: (resource, namespace, name) => (objects[resource] ?? []).find((o) => o.metadata.namespace === namespace && o.metadata.name === name),
    subscribe: () => () => {},
  };
}

function pod(name: string, ready: boolean, extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: 'shop', name, labels: { app: 'web' }, ...extra },
    spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

function svc(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop', name }, spec: { ports: [{ port: 80, targetPort: 'http' }], ...spec } };
}

const pods = [pod('a', true), pod('b', false), pod('c', true, { deletionTimestamp: '2025-01-01T00:00:00Z' })];
const addresses = new Map([
  ['shop/a', '10.244.0.2'],
  ['shop/b', '10.244.0.3'],
  ['shop/c', '10.244.0.4'],
]);

function endpointsOf(objects: Record<string, KubeObject[]>): Record<string, { routes: string[]; podIPs: string[] }> {
  const v = view({ pods, ...objects });
  const out: Record<string, { routes: string[]; podIPs: string[] }> = {};
  for (const s of serviceInfos(v, runningPods(v, addresses))) {
    out[s.name] = { routes: s.ports.flatMap((p) => p.endpoints.map((e) => `${e.pod}=${e.ip}:${e.port}`)), podIPs: s.podIPs };
  }
  return out;
}

test('a selector picks ready, non-terminating pods; publishNotReadyAddresses picks every addressed pod', () => {
  assert.deepEqual(
    endpointsOf({
      services: [
        svc('web', { clusterIP: '10.96.0.20', selector: { app: 'web' } }),
        svc('headless', { clusterIP: 'None', selector: { app: 'web' } }),
        svc('all', { clusterIP: 'None', selector: { app: 'web' }, publishNotReadyAddresses: true }),
      ],
    }),
    {
      web: { routes: ['shop/a=10.244.0.2:8080'], podIPs: ['10.244.0.2'] },
      headless: { routes: ['shop/a=10.244.0.2:8080'], podIPs: ['10.244.0.2'] },
      all: { routes: ['shop/a=10.244.0.2:8080', 'shop/b=10.244.0.3:8080', 'shop/c=10.244.0.4:8080'], podIPs: ['10.244.0.2', '10.244.0.3', '10.244.0.4'] },
    },
  );
});

test('without a selector, the Endpoints object\'s ready addresses are used, never notReadyAddresses', () => {
  const manual = svc('manual', { clusterIP: '10.96.0.21', ports: [{ port: 80, targetPort: 8080 }] });
  const endpoints: KubeObject = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { namespace: 'shop', name: 'manual' },
    subsets: [{ addresses: [{ ip: '192.0.2.10' }], notReadyAddresses: [{ ip: '192.0.2.11' }], ports: [{ port: 8080, protocol: 'TCP' }] }],
  } as KubeObject;
  assert.deepEqual(endpointsOf({ services: [manual], endpoints: [endpoints] }), { manual: { routes: ['192.0.2.10=192.0.2.10:8080'], podIPs: ['192.0.2.10'] } });
});
