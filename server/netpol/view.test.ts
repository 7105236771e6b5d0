// PodPolicyView against evaluate(): on random clusters, a naive reading of the views (what a data
// plane does with them) must reach the same verdict as the engine for every connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection, PodInfo, PodPolicyView, Protocol, Verdict } from './types.ts';
import { PolicyEngine } from './engine.ts';
import { resolveNamedPort } from './ports.ts';
import { cidrContains, parseCIDR, parseIP } from './cidr.ts';
import { generate, random } from './testdata/generate.ts';

// `asAddress`: the connection names the pod by its address, which the engine resolves to the pod.
type End = { key?: string; ip: string; pod?: PodInfo; asAddress?: boolean };

function admitsByView(view: PodPolicyView, peer: End, port: number, protocol: Protocol, dest: PodInfo | undefined): boolean {
  if (!view.isolated) return true;
  const ip = parseIP(peer.ip);
  return view.rules.some((rule) => {
    const peerOK =
      rule.peers === 'any' ||
      rule.peers.some((p) =>
        p.kind === 'pods'
          ? p.pods.some((x) => x.pod === peer.key)
          : !!ip && cidrContains(parseCIDR(p.cidr)!, ip) && !p.except.some((e) => cidrContains(parseCIDR(e)!, ip)),
      );
    const portOK =
      rule.ports === 'any' ||
      rule.ports.some((p) => {
        if (p.protocol !== protocol) return false;
        if ('name' in p) return !!dest && resolveNamedPort(dest, p.name, protocol) === port;
        if (p.port === undefined) return true;
        return p.endPort !== undefined ? port >= p.port && port <= p.endPort : port === p.port;
      });
    return peerOK && portOK;
  });
}

function verdictByViews(engine: PolicyEngine, from: End, to: End, port: number, protocol: Protocol): Verdict {
  if (from.key && from.key === to.key) return 'allow';
  if (from.key && !admitsByView(engine.podPolicy(from.key, 'egress'), to, port, protocol, to.pod)) return 'deny';
  if (to.key && !admitsByView(engine.podPolicy(to.key, 'ingress'), from, port, protocol, to.pod)) return 'deny';
  return 'allow';
}

const ports: Array<[number, Protocol]> = [[80, 'TCP'], [8080, 'TCP'], [9090, 'TCP'], [53, 'UDP'], [53, 'TCP'], [5432, 'TCP'], [8050, 'TCP'], [9100, 'SCTP'], [443, 'TCP']];
const externals = ['192.0.2.7', '10.1.0.5', '10.2.0.5', 'fd00::1', '2001:db8::1', '172.18.0.2'];

for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
  test(`views agree with evaluate (seed ${seed})`, () => {
    const { cluster, policies } = generate(seed, { namespaces: 4, pods: 30, policies: 12, hostNetwork: 0.1, ipv6: 0.1 });
    const engine = new PolicyEngine(cluster, policies);
    const ends: End[] = [
      ...cluster.pods.map((p) => ({ key: `${p.namespace}/${p.name}`, ip: p.ip, pod: p })),
      ...externals.map((ip): End => {
        const pod = cluster.pods.find((p) => !p.hostNetwork && p.ip === ip);
        return pod ? { key: `${pod.namespace}/${pod.name}`, ip, pod, asAddress: true } : { ip };
      }),
    ];
    const rnd = random(seed * 7919);
    let allowed = 0;
    for (let i = 0; i < 1500; i++) {
      const from = ends[Math.floor(rnd() * ends.length)];
      const to = ends[Math.floor(rnd() * ends.length)];
      const [port, protocol] = ports[Math.floor(rnd() * ports.length)];
      const c: Connection = { from: from.key && !from.asAddress ? { pod: from.key } : { ip: from.ip }, to: to.key && !to.asAddress ? { pod: to.key } : { ip: to.ip }, port, protocol };
      const want = verdictByViews(engine, from, to, port, protocol);
      const got = engine.evaluate(c);
      assert.equal(got.verdict, want, `${JSON.stringify(c)}: ${got.explanation.summary}`);
      assert.equal(engine.verdict(c), want);
      if (got.verdict === 'deny') {
        const denying = [got.explanation.egress, got.explanation.ingress].filter((s) => s.verdict === 'deny');
        assert.ok(denying.length > 0 && denying.every((s) => s.isolated), 'a deny names an isolated side');
      } else allowed++;
    }
    assert.ok(allowed > 0 && allowed < 1500, `both verdicts occur (allowed ${allowed})`);
  });
}

test('ingress views resolve named ports on the pod and drop absent ones', () => {
  const engine = new PolicyEngine(
    { namespaces: [{ name: 'x', labels: {} }], pods: [{ namespace: 'x', name: 'a', labels: {}, ip: '10.0.0.1', containerPorts: [{ name: 'http', port: 8080 }] }] },
    [{ metadata: { name: 'p', namespace: 'x' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{ ports: [{ port: 'http' }, { port: 'metrics' }] }, { ports: [{ port: 'metrics' }] }], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.9/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 'http', protocol: 'TCP' }] }] } }],
  );
  assert.deepEqual(engine.podPolicy('x/a', 'ingress'), {
    pod: 'x/a',
    direction: 'ingress',
    isolated: true,
    policies: ['x/p'],
    rules: [
      { policy: 'x/p', index: 0, peers: 'any', ports: [{ protocol: 'TCP', port: 8080 }] },
      { policy: 'x/p', index: 1, peers: 'any', ports: [] },
    ],
  });
  assert.deepEqual(engine.podPolicy('x/a', 'egress').rules, [
    { policy: 'x/p', index: 0, peers: [{ kind: 'ipBlock', peer: 0, cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] }], ports: [{ protocol: 'TCP', name: 'http' }] },
  ]);
});
