// Services forward only to ready endpoints, on every data plane, as kube-proxy does: a pod whose
// readiness gate is unmet (the grader's probers carry one nothing sets) gets no Service traffic even
// when it listens, and a Service port with no ready endpoint refuses (ICMP port unreachable from
// kube-proxy's reject: curl "Couldn't connect to server", nc "Connection refused").
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { planes, ApiCluster, createApiHost, leftoverNamespaces, ownNamespaces, namespace, pod, service, type ExecResult } from './harness.ts';
import type { ApiHost } from '../../server/apiserver/index.ts';
import type { KubeObject } from '../../server/apiserver/runtime.ts';

const GATE = 'example.com/in-rotation';

function echo(name: string, labels: Record<string, string>, text: string, gated: boolean): KubeObject {
  const p = pod('shop', name, labels, { image: 'hashicorp/http-echo', args: [`-text=${text}`], ports: [{ containerPort: 5678 }] });
  if (gated) (p.spec as Record<string, unknown>).readinessGates = [{ conditionType: GATE }];
  return p;
}

function show(r: ExecResult): string {
  return `exit ${r.exitCode}\nstdout: ${JSON.stringify(r.stdout)}\nstderr: ${JSON.stringify(r.stderr)}`;
}

for (const plane of planes()) {
  describe(`services: ${plane.name}`, { skip: plane.skip }, () => {
    const runtime = plane.skip ? undefined : plane.make();
    let host: ApiHost | undefined;
    let api: ApiCluster | undefined;
    const tags = new Set<string>();
    const sh = (cmd: string) => api!.exec({ namespace: 'shop', pod: 'client', container: 'main' }, ['sh', '-c', cmd]);

    before(async () => {
      host = await createApiHost({ onError: () => {} });
      api = await ApiCluster.start(runtime!, [], host);
      ownNamespaces().tags.forEach((t) => tags.add(t));
      await api.apply(namespace('shop'));
      const pods = [
        echo('web-ready', { app: 'web' }, 'ready', false),
        echo('web-gated', { app: 'web' }, 'gated', true),
        echo('solo', { app: 'solo' }, 'solo', true),
        pod('shop', 'client', { app: 'client' }, { image: 'nicolaka/netshoot', command: ['sleep', 'infinity'] }),
      ];
      for (const p of pods) await api.apply(p);
      await api.apply(service('shop', 'web', { app: 'web' }, [{ port: 80, targetPort: 5678 }]));
      await api.apply(service('shop', 'solo', { app: 'solo' }, [{ port: 80, targetPort: 5678 }]));
      await api.waitRunning(pods.map((p) => ({ namespace: 'shop', name: p.metadata.name })));
      await api.settle();
    });
    after(async () => {
      await api?.dispose();
      await host?.close();
      if (plane.name === 'netns') assert.deepEqual(leftoverNamespaces([...tags]), []);
    });

    test('a not-ready pod that listens gets no service traffic; its own address still answers', async () => {
      const r = await sh('for i in 1 2 3 4 5 6 7 8 9 10 11 12; do curl -sS --max-time 3 http://web; done');
      assert.equal(r.exitCode, 0, show(r));
      assert.deepEqual([...new Set(r.stdout.trim().split('\n'))], ['ready'], show(r));
      const gated = await api!.request('GET', '/api/v1/namespaces/shop/pods/web-gated');
      const direct = await sh(`curl -sS --max-time 3 http://${String((gated.body.status as { podIP: string }).podIP)}:5678`);
      assert.equal(direct.stdout.trim(), 'gated', show(direct));
    });

    test('a service with no ready endpoint refuses, then forwards once the pod turns Ready', async () => {
      const nc = await sh('nc -vz -w 2 solo 80');
      assert.match(nc.stderr, /Connection refused/, show(nc));
      assert.equal(nc.exitCode, 1, show(nc));
      const curl = await sh('curl -sS --max-time 3 http://solo');
      assert.equal(curl.exitCode, 7, show(curl));
      assert.match(curl.stderr, /Failed to connect to solo port 80 after \d+ ms: Couldn't connect to server/, show(curl));

      // the gate's owner sets its condition: the pod is Ready and the service's only endpoint
      const current = await api!.request('GET', '/api/v1/namespaces/shop/pods/solo');
      const next = structuredClone(current.body) as KubeObject & { status: { conditions: unknown[] } };
      next.status.conditions.push({ type: GATE, status: 'True', lastProbeTime: null, lastTransitionTime: new Date().toISOString() });
      const put = await api!.request('PUT', '/api/v1/namespaces/shop/pods/solo/status', next);
      assert.equal(put.status, 200, JSON.stringify(put.body));
      for (let i = 0; i < 100; i++) {
        const ep = await api!.request('GET', '/api/v1/namespaces/shop/endpoints/solo');
        if ((ep.body as { subsets?: Array<{ addresses?: unknown[] }> }).subsets?.[0]?.addresses) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await api!.settle();
      const after = await sh('curl -sS --max-time 3 http://solo');
      assert.equal(after.stdout.trim(), 'solo', show(after));
    });
  });
}
