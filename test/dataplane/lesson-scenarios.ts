// The Network Policies lesson's scenarios, as a learner would see them in their terminal: a
// payments namespace behind default deny, then DNS and chosen clients let back in, then egress
// pinned to what payment-api needs, then an ipBlock with holes. Each starts by proving the
// traffic works, so a check can only pass because the policy did its job.
import assert from 'node:assert/strict';
import type { PodRuntime } from '../../server/apiserver/runtime.ts';
import type { ApiHost } from '../../server/apiserver/index.ts';
import { ApiCluster, namespace, pod, policy, service, type ExecResult } from './harness.ts';

const STRIPE = { names: ['api.stripe.com'], address: '198.51.100.0/24', ports: [{ port: 443 }, { port: 80 }], description: 'payment gateway' };

async function world(runtime: PodRuntime, host?: ApiHost): Promise<{ api: ApiCluster; ips: Map<string, string> }> {
  const api = await ApiCluster.start(runtime, [STRIPE], host);
  try {
    for (const ns of ['payments', 'production', 'monitoring']) await api.apply(namespace(ns));
    const http = (extra: Array<Record<string, unknown>> = []) => [{ name: 'http', containerPort: 8080 }, ...extra];
    const pods = [
      pod('payments', 'payment-api', { app: 'payment-api' }, { image: 'kubelab/payment-api:1.4', ports: http([{ name: 'metrics', containerPort: 9090 }]) }),
      pod('payments', 'postgres', { app: 'postgres' }, { image: 'postgres:16', ports: [{ name: 'pg', containerPort: 5432 }] }),
      pod('payments', 'fraud-svc', { app: 'fraud-svc' }, { image: 'kubelab/fraud-svc:1.0', ports: http() }),
      pod('production', 'checkout-api', { app: 'checkout-api' }, { image: 'kubelab/checkout-api:2.1', ports: http() }),
      pod('production', 'frontend', { app: 'frontend' }, { image: 'kubelab/frontend:3.0', ports: http() }),
      pod('production', 'order-svc', { app: 'order-svc' }, { image: 'kubelab/order-svc:1.2', ports: http() }),
      pod('monitoring', 'prometheus', { app: 'prometheus' }, { image: 'prom/prometheus:v2.54.1', ports: [{ name: 'web', containerPort: 9090 }] }),
    ];
    await Promise.all(pods.map((p) => api.apply(p)));
    await api.apply(service('payments', 'payment-api-svc', { app: 'payment-api' }, [{ name: 'http', port: 80, targetPort: 'http' }]));
    await api.apply(service('payments', 'postgres', { app: 'postgres' }, [{ port: 5432, targetPort: 5432 }]));
    await api.apply(service('payments', 'fraud-svc', { app: 'fraud-svc' }, [{ port: 8080, targetPort: 8080 }]));
    await api.apply(service('production', 'order-svc', { app: 'order-svc' }, [{ port: 8080, targetPort: 8080 }]));
    const ips = await api.waitRunning(pods.map((p) => ({ namespace: p.metadata.namespace!, name: p.metadata.name })));
    await api.settle();
    return { api, ips };
  } catch (err) {
    await api.dispose();
    throw err;
  }
}

function sh(api: ApiCluster, from: string, cmd: string): Promise<ExecResult> {
  const [ns, name] = from.split('/');
  return api.exec({ namespace: ns, pod: name, container: 'main' }, ['sh', '-c', cmd]);
}

function show(r: ExecResult): string {
  return `exit ${r.exitCode}\nstdout: ${JSON.stringify(r.stdout)}\nstderr: ${JSON.stringify(r.stderr)}`;
}

async function expectHealthy(api: ApiCluster, from: string, url: string): Promise<void> {
  const r = await sh(api, from, `curl -sS --max-time 3 ${url}`);
  assert.equal(r.exitCode, 0, `${from}: curl ${url} should answer\n${show(r)}`);
  assert.match(r.stdout, /"status":"healthy"|# TYPE/, show(r));
}

async function expectCurlTimeout(api: ApiCluster, from: string, url: string): Promise<void> {
  const r = await sh(api, from, `curl -sS --max-time 3 ${url}`);
  assert.equal(r.exitCode, 28, `${from}: curl ${url} should time out\n${show(r)}`);
  assert.match(r.stderr, /timed out after 3\d{3} milliseconds/, show(r));
}

async function expectNc(api: ApiCluster, from: string, host: string, port: number, outcome: 'connected' | 'timeout' | 'refused'): Promise<void> {
  const r = await sh(api, from, `nc -vz -w 2 ${host} ${port}`);
  const pattern = { connected: /succeeded!/, timeout: /timed out: Operation now in progress/, refused: /Connection refused/ }[outcome];
  assert.match(r.stderr, pattern, `${from}: nc ${host} ${port} should be ${outcome}\n${show(r)}`);
  assert.equal(r.exitCode, outcome === 'connected' ? 0 : 1, show(r));
}

const allowDnsEgress = policy('payments', 'allow-dns-egress', {
  podSelector: {},
  policyTypes: ['Egress'],
  egress: [
    {
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
      ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
    },
  ],
});

export const lessonScenarios: Array<{ name: string; run(runtime: PodRuntime, host?: ApiHost): Promise<void> }> = [
  {
    name: 'default deny in payments blocks the service and DNS; DNS and chosen clients let back in',
    async run(runtime, host) {
      const { api, ips } = await world(runtime, host);
      try {
        await expectHealthy(api, 'payments/fraud-svc', 'http://payment-api-svc:80/health');
        const before = await sh(api, 'payments/fraud-svc', 'nslookup payment-api-svc');
        assert.equal(before.exitCode, 0, show(before));
        assert.match(before.stdout, /Name:\tpayment-api-svc\.payments\.svc\.cluster\.local\nAddress: 10\.96\./, show(before));

        await api.apply(policy('payments', 'default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }));
        await api.settle();
        const [curl, lookup, fromProduction] = await Promise.all([
          sh(api, 'payments/fraud-svc', 'curl -sS --max-time 3 http://payment-api-svc:80/health'),
          sh(api, 'payments/fraud-svc', 'nslookup payment-api-svc'),
          sh(api, 'production/checkout-api', 'curl -sS --max-time 3 http://payment-api-svc.payments:80/health'),
        ]);
        assert.equal(curl.exitCode, 28, show(curl));
        assert.match(curl.stderr, /^curl: \(28\) Resolving timed out after 3\d{3} milliseconds\n$/, show(curl));
        assert.equal(lookup.exitCode, 1, show(lookup));
        assert.match(lookup.stdout, /communications error to 10\.96\.0\.10#53: timed out\n[^]*;; no servers could be reached/, show(lookup));
        assert.equal(fromProduction.exitCode, 28, show(fromProduction));
        assert.match(fromProduction.stderr, /Connection timed out after 3\d{3} milliseconds/, show(fromProduction));

        await api.apply(allowDnsEgress);
        await api.apply(
          policy('payments', 'payment-api-ingress', {
            podSelector: { matchLabels: { app: 'payment-api' } },
            policyTypes: ['Ingress'],
            ingress: [
              {
                from: [
                  { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'production' } }, podSelector: { matchLabels: { app: 'checkout-api' } } },
                  { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { app: 'prometheus' } } },
                ],
                ports: [{ port: 8080 }, { port: 9090 }],
              },
            ],
          }),
        );
        await api.settle();
        await Promise.all([
          expectHealthy(api, 'production/checkout-api', 'http://payment-api-svc.payments:80/health'),
          expectCurlTimeout(api, 'production/frontend', 'http://payment-api-svc.payments:80/health'),
          expectHealthy(api, 'monitoring/prometheus', `http://${ips.get('payments/payment-api')}:9090/metrics`),
          (async () => {
            const r = await sh(api, 'payments/fraud-svc', 'nslookup payment-api-svc');
            assert.equal(r.exitCode, 0, `DNS is allowed again\n${show(r)}`);
          })(),
          expectCurlTimeout(api, 'payments/fraud-svc', 'http://payment-api-svc:80/health'),
        ]);
      } finally {
        await api.dispose();
      }
    },
  },
  {
    name: 'payment-api egress limited to postgres, fraud-svc and DNS; an ipBlock with exceptions',
    async run(runtime, host) {
      const { api } = await world(runtime, host);
      try {
        const from = 'payments/payment-api';
        await Promise.all([expectNc(api, from, 'order-svc.production', 8080, 'connected'), expectNc(api, from, 'api.stripe.com', 443, 'connected'), expectNc(api, from, '198.51.100.10', 443, 'connected')]);
        await api.apply(
          policy('payments', 'payment-api-egress', {
            podSelector: { matchLabels: { app: 'payment-api' } },
            policyTypes: ['Egress'],
            egress: [
              { to: [{ podSelector: { matchLabels: { app: 'postgres' } } }], ports: [{ port: 5432 }] },
              { to: [{ podSelector: { matchLabels: { app: 'fraud-svc' } } }], ports: [{ port: 8080 }] },
              { to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] },
            ],
          }),
        );
        await api.settle();
        await Promise.all([
          expectNc(api, from, 'postgres', 5432, 'connected'),
          expectNc(api, from, 'fraud-svc', 8080, 'connected'),
          expectNc(api, from, 'order-svc.production', 8080, 'timeout'),
          expectNc(api, from, 'api.stripe.com', 443, 'timeout'),
          (async () => {
            const r = await sh(api, from, 'curl -sS -k --max-time 3 https://api.stripe.com/');
            assert.equal(r.exitCode, 28, show(r));
          })(),
        ]);

        await api.apply(
          policy('payments', 'payment-api-egress', {
            podSelector: { matchLabels: { app: 'payment-api' } },
            policyTypes: ['Egress'],
            egress: [{ to: [{ ipBlock: { cidr: '198.51.100.0/24', except: ['198.51.100.10/32', '198.51.100.11/32'] } }], ports: [{ port: 443 }] }],
          }),
        );
        await api.settle();
        await Promise.all([
          expectNc(api, from, '198.51.100.1', 443, 'connected'),
          expectNc(api, from, '198.51.100.1', 80, 'timeout'),
          expectNc(api, from, '198.51.100.10', 443, 'timeout'),
          expectNc(api, from, '198.51.100.11', 443, 'timeout'),
          expectNc(api, from, '198.51.100.200', 443, 'connected'),
        ]);
      } finally {
        await api.dispose();
      }
    },
  },
];
