import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dnsPacket from 'dns-packet';
import { ClusterResolver } from './dns.ts';
import type { RunningPod, ServiceInfo } from './cluster-model.ts';

const pod = (namespace: string, name: string, ip: string): RunningPod => ({ key: `${namespace}/${name}`, namespace, name, uid: '', labels: {}, ip, containerPorts: [], terminating: false, ready: true });
const services: ServiceInfo[] = [
  { namespace: 'payments', name: 'payment-api-svc', clusterIP: '10.96.0.20', ports: [], podIPs: ['10.244.0.3'] },
  { namespace: 'payments', name: 'db', clusterIP: undefined, ports: [], podIPs: ['10.244.0.9', '10.244.0.8'] },
];
const resolver = new ClusterResolver({
  clusterDomain: 'cluster.local',
  services,
  pods: [pod('payments', 'a', '10.244.0.3')],
  externalHosts: [
    { names: ['api.stripe.com'], address: '198.51.100.0/24', ports: [{ port: 443 }] },
    { names: ['Mirror.Example.org'], address: '203.0.113.7', ports: [{ port: 80 }] },
  ],
});

test('lookups: a default answer per name kind, with named exceptions', () => {
  const cases: Array<[string, string, string, string[]]> = [
    ['payment-api-svc.payments.svc.cluster.local', 'A', 'NOERROR', ['10.96.0.20']],
    ['PAYMENT-API-SVC.payments.svc.cluster.local.', 'A', 'NOERROR', ['10.96.0.20']],
    ['db.payments.svc.cluster.local', 'A', 'NOERROR', ['10.244.0.8', '10.244.0.9']],
    ['payment-api-svc.payments.svc.cluster.local', 'AAAA', 'NOERROR', []],
    ['payment-api-svc.production.svc.cluster.local', 'A', 'NXDOMAIN', []],
    ['payment-api-svc', 'A', 'NXDOMAIN', []],
    ['payments.svc.cluster.local', 'A', 'NOERROR', []],
    ['cluster.local', 'A', 'NOERROR', []],
    ['10-244-0-3.payments.pod.cluster.local', 'A', 'NOERROR', ['10.244.0.3']],
    ['10-244-0-3.nowhere.pod.cluster.local', 'A', 'NXDOMAIN', []],
    ['api.stripe.com', 'A', 'NOERROR', ['198.51.100.1']],
    ['mirror.example.org', 'A', 'NOERROR', ['203.0.113.7']],
    ['api.stripe.com.payments.svc.cluster.local', 'A', 'NXDOMAIN', []],
    ['www.google.com', 'A', 'NXDOMAIN', []],
  ];
  for (const [name, type, rcode, addresses] of cases) {
    const r = resolver.lookup(name, type);
    assert.equal(r.rcode, rcode, `${type} ${name}`);
    assert.deepEqual(r.addresses, addresses, `${type} ${name}`);
  }
});

test('reverse lookup of a ClusterIP names the service', () => {
  const r = resolver.lookup('20.0.96.10.in-addr.arpa', 'PTR');
  assert.deepEqual(r.ptr, ['payment-api-svc.payments.svc.cluster.local.']);
  assert.equal(resolver.lookup('99.0.96.10.in-addr.arpa', 'PTR').rcode, 'NXDOMAIN');
});

test('wire answers carry CoreDNS flags: aa for the cluster zone, ra always, SOA on empty answers', () => {
  const ask = (name: string, type: dnsPacket.RecordType) => {
    const q = dnsPacket.encode({ type: 'query', id: 42, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
    return dnsPacket.decode(resolver.answer(q)!) as dnsPacket.DecodedPacket & { rcode: string };
  };
  const a = ask('payment-api-svc.payments.svc.cluster.local', 'A');
  assert.equal(a.id, 42);
  assert.equal(a.rcode, 'NOERROR');
  assert.ok(a.flag_aa && a.flag_ra && a.flag_rd && a.flag_qr);
  assert.deepEqual(a.answers?.map((x) => [x.type, (x as { data: string }).data, (x as { ttl?: number }).ttl]), [['A', '10.96.0.20', 5]]);
  const nx = ask('nope.payments.svc.cluster.local', 'A');
  assert.equal(nx.rcode, 'NXDOMAIN');
  assert.equal(nx.authorities?.[0]?.type, 'SOA');
  const ext = ask('api.stripe.com', 'A');
  assert.equal(ext.flag_aa, false);
  assert.equal(ext.flag_ra, true);
  assert.equal(resolver.answer(Buffer.from('garbage')), undefined);
});
