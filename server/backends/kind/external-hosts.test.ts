// The pure parts of a lab's external hosts on kind: what a lab asks for, the listener commands,
// and the CoreDNS Corefile edit on the Corefile kubeadm writes for kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HTTP_ANSWER, planExternalHosts, routeCommand, socatCommand, withHostsBlock, withoutHostsBlock } from './external-hosts.ts';

// kubeadm's Corefile, as a kind v0.32 node has it
const KIND_COREFILE = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;

test('plan: blocks as CIDRs, one listener per port, names at the block\'s first host', () => {
  const plan = planExternalHosts([
    { names: ['gateway.example'], address: '198.51.100.0/24', ports: [{ port: 443, kind: 'https' }, { port: 80, kind: 'http' }] },
    { names: ['API.Stripe.com'], address: '192.0.2.44', ports: [{ port: 443, kind: 'https' }, { port: 5353, protocol: 'UDP' }] },
  ]);
  assert.deepEqual(plan.blocks, ['198.51.100.0/24', '192.0.2.44/32']);
  assert.deepEqual(plan.ports, [
    { port: 443, protocol: 'TCP', kind: 'https' },
    { port: 80, protocol: 'TCP', kind: 'http' },
    { port: 5353, protocol: 'UDP', kind: 'tcp' },
  ]);
  assert.deepEqual(plan.names, [
    { address: '198.51.100.1', name: 'gateway.example' },
    { address: '192.0.2.44', name: 'api.stripe.com' },
  ]);
  assert.deepEqual(routeCommand('replace', '192.0.2.44/32'), ['ip', 'route', 'replace', 'local', '192.0.2.44/32', 'dev', 'lo', 'table', 'local']);
});

test('plan: what a kind node cannot serve is refused naming the field', () => {
  const reject = (hosts: Parameters<typeof planExternalHosts>[0], re: RegExp) => assert.throws(() => planExternalHosts(hosts), (e: Error) => e.name === 'KindError' && re.test(e.message));
  reject([{ names: [], address: '2001:db8::1', ports: [] }], /externalHosts\[0\]\.address: "2001:db8::1" is not an IPv4 address or CIDR/);
  reject([{ names: [], address: '192.0.2.1', ports: [{ port: 179 }] }], /externalHosts\[0\]\.ports\[0\]\.port: 179 is held by Calico BGP \(bird\) on every kind node/);
  reject([{ names: [], address: '192.0.2.1', ports: [{ port: 0 }] }], /externalHosts\[0\]\.ports\[0\]\.port: must be between 1 and 65535/);
  reject([{ names: ['bad name'], address: '192.0.2.1', ports: [] }], /externalHosts\[0\]\.names\[0\]: "bad name" is not a DNS name/);
  reject(
    [
      { names: [], address: '192.0.2.1', ports: [{ port: 8443, kind: 'https' }] },
      { names: [], address: '192.0.2.2', ports: [{ port: 8443, kind: 'http' }] },
    ],
    /externalHosts\[1\]\.ports\[0\]: port 8443 is http here but https for externalHosts\[0\]/,
  );
});

test('listener commands: socat per port, TLS from the mounted certificate, the answer script reads the request first', () => {
  assert.deepEqual(socatCommand({ port: 443, protocol: 'TCP', kind: 'https' }), ['socat', 'OPENSSL-LISTEN:443,pf=ip4,fork,reuseaddr,cert=/etc/kubelab-external-hosts/tls.pem,verify=0', 'EXEC:/etc/kubelab-external-hosts/answer-http']);
  assert.deepEqual(socatCommand({ port: 80, protocol: 'TCP', kind: 'http' }), ['socat', 'TCP4-LISTEN:80,fork,reuseaddr', 'EXEC:/etc/kubelab-external-hosts/answer-http']);
  assert.deepEqual(socatCommand({ port: 5432, protocol: 'TCP', kind: 'tcp' }), ['socat', 'TCP4-LISTEN:5432,fork,reuseaddr', 'PIPE']);
  assert.deepEqual(socatCommand({ port: 53, protocol: 'UDP', kind: 'tcp' }), ['socat', 'UDP4-RECVFROM:53,fork', 'PIPE']);
  assert.match(HTTP_ANSWER, /^#!\/bin\/sh\n/);
  assert.match(HTTP_ANSWER, /Content-Length: %s\\r\\n/);
  assert.match(HTTP_ANSWER, /"\$\{#body\}"/);
});

test('Corefile: the hosts block goes first in ".:53", and comes off leaving the file as it was', () => {
  const names = [
    { address: '192.0.2.44', name: 'api.stripe.com' },
    { address: '203.0.113.66', name: 'collector.attacker.example' },
  ];
  const withNames = withHostsBlock(KIND_COREFILE, names);
  assert.equal(
    withNames.split('\n').slice(0, 9).join('\n'),
    [
      '.:53 {',
      '    # kubelab external hosts: begin (removed when the cluster is reset)',
      '    hosts {',
      '        192.0.2.44 api.stripe.com',
      '        203.0.113.66 collector.attacker.example',
      '        fallthrough',
      '    }',
      '    # kubelab external hosts: end',
      '    errors',
    ].join('\n'),
  );
  assert.equal(withoutHostsBlock(withNames), KIND_COREFILE);
  assert.equal(withHostsBlock(withNames, names), withNames, 'adding again replaces our block');
  assert.equal(withoutHostsBlock(KIND_COREFILE), KIND_COREFILE);
  assert.throws(() => withHostsBlock(KIND_COREFILE.replace('    ready\n', '    ready\n    hosts /etc/hosts\n'), names), /already has a hosts plugin in its "\.:53" block/);
  assert.throws(() => withHostsBlock('example.org:53 {\n    forward . 8.8.8.8\n}\n', names), /no "\.:53 \{" server block/);
});
