// The sim plane's shimmed tools against the real ones: the same world on both planes, the probe
// commands the grader and the lesson use, and the outputs compared byte for byte after masking
// what legitimately differs between two runs (addresses handed out, elapsed milliseconds, ping
// round-trip times, dig's query id and clock).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { ApiCluster, planes, namespace, pod, policy, service, createApiHost } from './harness.ts';
import type { ApiHost } from '../../server/apiserver/index.ts';
import type { PodRuntime } from '../../server/apiserver/runtime.ts';

const STRIPE = { names: ['api.stripe.com'], address: '198.51.100.0/24', ports: [{ port: 443 }, { port: 80 }] };

interface Run {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Commands as a learner types them; {pod} is replaced by that pod's address in each plane. */
const COMMANDS: Array<{ from: string; cmd: string }> = [
  ...['payment-api-svc 80', '{blocked} 80', '{api} 81', 'nosuch 80', 'empty-svc 80', 'api.stripe.com 443', '198.51.100.9 8443', '203.0.113.9 443'].flatMap((t) => [
    { from: 'client', cmd: `nc -z -w 1 ${t}` },
    { from: 'client', cmd: `nc -zv -w 1 ${t}` },
  ]),
  ...['http://payment-api-svc:80/health', 'http://{blocked}/', 'http://{api}:81/', 'http://nosuch/', 'http://empty-svc/', 'https://api.stripe.com/', 'http://api.stripe.com:443/'].flatMap((u) => [
    { from: 'client', cmd: `curl -sS --max-time 2 ${u}` },
    { from: 'client', cmd: `curl -s -o /dev/null -w '%{http_code}' --max-time 2 ${u}` },
  ]),
  { from: 'client', cmd: 'curl -sS -k --max-time 2 https://api.stripe.com/' },
  { from: 'client', cmd: 'curl -sS --connect-timeout 1 http://{blocked}/' },
  { from: 'client', cmd: "curl -sS -o /dev/null -w '%{http_code}' --max-time 2 --resolve payments.example:8080:{api} http://payments.example:8080/health" },
  ...['payment-api-svc', 'payment-api-svc.payments.svc.cluster.local', 'nosuch', 'api.stripe.com', 'db', '{svc}'].map((n) => ({ from: 'client', cmd: `nslookup ${n}` })),
  ...['payment-api-svc.payments.svc.cluster.local', 'nosuch', 'api.stripe.com', 'db.payments.svc.cluster.local'].map((n) => ({ from: 'client', cmd: `dig +short ${n}` })),
  { from: 'client', cmd: 'dig +short +time=1 +tries=1 +search payment-api-svc A' },
  { from: 'client', cmd: 'dig @10.96.0.10 -p 53 +short +time=1 +tries=1 kubernetes.default.svc.cluster.local. A' },
  { from: 'client', cmd: 'dig @{api} -p 5354 +short +time=1 +tries=1 kubernetes.default.svc.cluster.local. A' },
  { from: 'client', cmd: 'dig @{blocked} +short +time=1 +tries=1 kubernetes.default.svc.cluster.local. A' },
  ...['http://payment-api-svc/health', 'http://{api}:81/', 'http://nosuch/'].map((u) => ({ from: 'client', cmd: `wget -qO- -T 2 ${u}` })),
  { from: 'client', cmd: 'wget -qO- -T 1 -t 1 http://{blocked}/' },
  ...['{api}', '{blocked}', '203.0.113.9', 'nosuch'].map((h) => ({ from: 'client', cmd: `ping -c1 -W 1 ${h}` })),
  ...['{api} 5353', '{api} 5354', '{blocked} 5353'].map((t) => ({ from: 'client', cmd: `echo kubelab | nc -u -w 1 ${t}` })),
  // DNS blocked by egress policy
  { from: 'isolated', cmd: 'curl -sS --max-time 2 http://payment-api-svc:80/health' },
  { from: 'isolated', cmd: "curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://payment-api-svc/" },
  { from: 'isolated', cmd: 'dig +short +time=1 +tries=1 payment-api-svc.payments.svc.cluster.local' },
  { from: 'isolated', cmd: 'nslookup -timeout=1 -retry=0 payment-api-svc' },
  { from: 'isolated', cmd: 'wget -qO- -T 1 http://payment-api-svc/health' },
  { from: 'isolated', cmd: 'nc -zv -w 1 {api} 8080' },
];

async function world(runtime: PodRuntime, host: ApiHost): Promise<{ api: ApiCluster; subst: Map<string, string> }> {
  const api = await ApiCluster.start(runtime, [STRIPE], host);
  await api.apply(namespace('payments'));
  const pods = [
    pod('payments', 'payment-api', { app: 'payment-api' }, { image: 'kubelab/payment-api:1', ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 5432 }, { containerPort: 5353, protocol: 'UDP' }] }),
    pod('payments', 'client', { app: 'client' }, { image: 'nicolaka/netshoot', command: ['sleep', 'infinity'] }),
    pod('payments', 'isolated', { app: 'isolated' }, { image: 'nicolaka/netshoot', command: ['sleep', 'infinity'] }),
    pod('payments', 'blocked', { app: 'blocked' }, { image: 'nginx' }),
  ];
  for (const p of pods) await api.apply(p);
  await api.apply(service('payments', 'payment-api-svc', { app: 'payment-api' }, [{ port: 80, targetPort: 'http' }]));
  await api.apply(service('payments', 'empty-svc', { app: 'none' }, [{ port: 80 }]));
  await api.apply({ ...service('payments', 'db', { app: 'payment-api' }, [{ port: 5432 }]), spec: { clusterIP: 'None', selector: { app: 'payment-api' }, ports: [{ port: 5432 }] } });
  await api.apply(policy('payments', 'deny-blocked', { podSelector: { matchLabels: { app: 'blocked' } }, policyTypes: ['Ingress'] }));
  await api.apply(policy('payments', 'isolated-egress', { podSelector: { matchLabels: { app: 'isolated' } }, policyTypes: ['Egress'] }));
  const ips = await api.waitRunning(pods.map((p) => ({ namespace: 'payments', name: p.metadata.name })));
  await api.settle();
  const clusterIP = async (name: string) => String(((await api.request('GET', `/api/v1/namespaces/payments/services/${name}`)).body.spec as { clusterIP: string }).clusterIP);
  const subst = new Map([
    ['{api}', ips.get('payments/payment-api')!],
    ['{blocked}', ips.get('payments/blocked')!],
    ['{svc}', await clusterIP('payment-api-svc')],
    ['{empty-svc}', await clusterIP('empty-svc')],
  ]);
  return { api, subst };
}

function mask(text: string, subst: Map<string, string>): string {
  let t = text;
  for (const [k, v] of subst) t = t.split(v).join(k);
  const reverse = (ip: string) => ip.split('.').reverse().join('.');
  for (const [k, v] of subst) t = t.split(`${reverse(v)}.in-addr.arpa`).join(`${k}.in-addr.arpa`);
  return t
    .replace(/after \d+ ms/g, 'after N ms')
    .replace(/after (\d)\d{3} milliseconds/g, 'after $1000 milliseconds')
    .replace(/time=\d+\.\d+ ms/g, 'time=T ms')
    .replace(/rtt min\/avg\/max\/mdev = [\d./]+ ms/g, 'rtt min/avg/max/mdev = T ms')
    .replace(/Date: [^\r\n]+/g, 'Date: D');
}

const results = new Map<string, Run[]>();
const available = planes().filter((p) => !p.skip);
let host: ApiHost | undefined;

before(async () => {
  host = await createApiHost({ onError: () => {} });
});
after(async () => {
  await host?.close();
});

for (const plane of planes()) {
  test(`run the probe commands on ${plane.name}`, { skip: plane.skip }, async () => {
    const { api, subst } = await world(plane.make(), host!);
    try {
      // A few at a time: on a loaded machine a flood of probes would time out for the wrong reason.
      const runs: Run[] = new Array(COMMANDS.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          while (next < COMMANDS.length) {
            const i = next++;
            let line = COMMANDS[i].cmd;
            for (const [k, v] of subst) line = line.split(k).join(v);
            const r = await api.exec({ namespace: 'payments', pod: COMMANDS[i].from, container: 'main' }, ['sh', '-c', line]);
            runs[i] = { stdout: mask(r.stdout, subst), stderr: mask(r.stderr, subst), exitCode: r.exitCode };
          }
        }),
      );
      results.set(plane.name, runs);
    } finally {
      await api.dispose();
    }
  });
}

test('sim prints what the real tools print', { skip: available.length < 2 ? 'needs both planes (netns unavailable here)' : undefined }, () => {
  const real = results.get('netns');
  const sim = results.get('sim');
  assert.ok(real && sim, 'both planes ran');
  const diffs: string[] = [];
  COMMANDS.forEach(({ from, cmd }, i) => {
    const a = real[i];
    const b = sim[i];
    if (a.exitCode !== b.exitCode || a.stdout !== b.stdout || a.stderr !== b.stderr) {
      diffs.push(`[${from}] ${cmd}\n  netns: exit ${a.exitCode} out ${JSON.stringify(a.stdout)} err ${JSON.stringify(a.stderr)}\n  sim:   exit ${b.exitCode} out ${JSON.stringify(b.stdout)} err ${JSON.stringify(b.stderr)}`);
    }
  });
  assert.equal(diffs.length, 0, `${diffs.length} of ${COMMANDS.length} commands differ:\n${diffs.join('\n')}`);
});
