import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageName, podWorkload } from './workload.ts';
import type { KubeObject } from '../apiserver/runtime.ts';

const pod = (containers: Array<Record<string, unknown>>, labels: Record<string, string> = {}): KubeObject => ({ metadata: { name: 'p', namespace: 'n', labels }, spec: { containers } });

test('image names lose registry, library/ and tag', () => {
  assert.equal(imageName('docker.io/library/nginx:1.27-alpine'), 'nginx');
  assert.equal(imageName('nicolaka/netshoot:v0.13'), 'nicolaka/netshoot');
  assert.equal(imageName('registry.k8s.io/coredns/coredns:v1.11.3'), 'coredns/coredns');
  assert.equal(imageName('localhost:5000/app@sha256:abc'), 'app');
});

test('what each kind of container runs', () => {
  const listeners = (p: KubeObject) => podWorkload(p).listeners.map((l) => `${l.kind}:${l.port}/${l.protocol}`);
  assert.deepEqual(listeners(pod([{ name: 'web', image: 'nginx' }])), ['http:80/TCP']);
  assert.deepEqual(listeners(pod([{ name: 'e', image: 'hashicorp/http-echo', args: ['-listen=:8080', '-text=hello'] }])), ['http:8080/TCP']);
  assert.deepEqual(listeners(pod([{ name: 'db', image: 'postgres:16' }])), ['tcp:5432/TCP']);
  assert.deepEqual(listeners(pod([{ name: 'c', image: 'anything' }], { 'k8s-app': 'kube-dns' })), ['dns:53/UDP', 'dns:53/TCP', 'http:9153/TCP', 'http:8080/TCP', 'http:8181/TCP']);
  assert.deepEqual(
    listeners(pod([{ name: 'api', image: 'kubelab/payment-api:1', ports: [{ containerPort: 8080 }, { containerPort: 9090, name: 'metrics' }, { containerPort: 7000 }, { containerPort: 53, protocol: 'UDP' }] }])),
    ['http:8080/TCP', 'http:9090/TCP', 'tcp:7000/TCP', 'udp-echo:53/UDP'],
  );
  // An idle toolbox with declared ports serves them; without ports it serves nothing.
  assert.deepEqual(listeners(pod([{ name: 's', image: 'nicolaka/netshoot', command: ['sleep', 'infinity'], ports: [{ containerPort: 80 }] }])), ['http:80/TCP']);
  assert.deepEqual(listeners(pod([{ name: 's', image: 'busybox', command: ['sh', '-c', 'sleep infinity'] }])), []);
});

test('a socat server listens on its first address and runs no process', () => {
  const w = podWorkload(
    pod([
      { name: 'https', image: 'nicolaka/netshoot:v0.16', command: ['socat', 'OPENSSL-LISTEN:443,pf=ip4,fork,reuseaddr,cert=/x/tls.pem,verify=0', 'EXEC:/x/answer'] },
      { name: 'http', image: 'nicolaka/netshoot:v0.16', command: ['socat', '-d', 'TCP4-LISTEN:80,fork,reuseaddr', 'EXEC:/x/answer'] },
      { name: 'udp', image: 'nicolaka/netshoot:v0.16', command: ['socat', 'UDP4-RECVFROM:5353,fork', 'PIPE'] },
      // a client, not a server: it runs
      { name: 'client', image: 'nicolaka/netshoot:v0.16', command: ['socat', '-', 'TCP:db:5432'] },
    ]),
  );
  assert.deepEqual(
    w.listeners.map((l) => `${l.container} ${l.kind}:${l.port}/${l.protocol}`),
    ['https tcp:443/TCP', 'http tcp:80/TCP', 'udp udp-echo:5353/UDP'],
  );
  assert.deepEqual(w.processes.map((p) => p.container), ['client']);
});

test('main processes: shells and finite commands run; sleeps need no process', () => {
  const w = podWorkload(pod([{ name: 'sh', image: 'nicolaka/netshoot', command: ['sh'], stdin: true, tty: true, stdinOnce: true }]));
  assert.deepEqual(w.processes.map((p) => [p.command, p.tty, p.stdinOnce]), [[['sh'], true, true]]);
  assert.deepEqual(podWorkload(pod([{ name: 'b', image: 'busybox', stdin: true, tty: true }])).processes[0].command, ['sh']);
  assert.deepEqual(podWorkload(pod([{ name: 'j', image: 'busybox', command: ['sh', '-c', 'echo hi; exit 3'] }])).processes[0].command, ['sh', '-c', 'echo hi; exit 3']);
  const sleeper = podWorkload(pod([{ name: 's', image: 'busybox', command: ['sleep', '30'] }]));
  assert.deepEqual([sleeper.processes.length, sleeper.timers], [0, [{ container: 's', seconds: 30 }]]);
  assert.equal(podWorkload(pod([{ name: 's', image: 'busybox', args: ['sleep', 'infinity'] }])).timers.length, 0);
  // A server image with its own command runs it, and declared ports get no fake listener.
  const real = podWorkload(pod([{ name: 'py', image: 'python:3', command: ['python3', '-m', 'http.server', '8000'], ports: [{ containerPort: 8000 }] }]));
  assert.deepEqual([real.processes.length, real.listeners.length], [1, 0]);
});
