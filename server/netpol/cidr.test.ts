// Address and CIDR parsing as kube-apiserver's sloppy parser does it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, formatCIDR, formatIP, parseCIDR, parseIP } from './cidr.ts';

test('parseCIDR accepts what kube-apiserver accepts', () => {
  for (const ok of ['10.0.0.0/8', '10.0.0.1/24', '0.0.0.0/0', '010.001.0.0/16', '255.255.255.255/32', '::/0', '2001:db8::/32', 'fd00::1/128', '::ffff:10.0.0.0/104', '2001:db8:0:0:0:0:0:1/64', '1::/16']) {
    assert.ok(parseCIDR(ok), ok);
  }
  for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0/8', '256.0.0.0/8', '10.0.0.0/-1', '10.0.0.0/ 8', '2001:db8::/129', '2001:db8:::/64', '1:2:3:4:5:6:7:8:9/64', 'fd00::1%eth0/64', '', '/8', 'x/8', '10.0.0.0/8/8']) {
    assert.equal(parseCIDR(bad), undefined, bad);
  }
});

test('host bits are cleared and IPv4-mapped blocks are IPv4', () => {
  assert.equal(formatCIDR(parseCIDR('10.0.0.1/24')!), '10.0.0.0/24');
  assert.equal(formatCIDR(parseCIDR('::ffff:10.1.2.3/112')!), '10.1.0.0/16');
  assert.equal(formatCIDR(parseCIDR('2001:DB8:0:0:1::/48')!), '2001:db8::/48');
});

test('containment never crosses families', () => {
  const v4all = parseCIDR('0.0.0.0/0')!;
  const v6all = parseCIDR('::/0')!;
  assert.ok(cidrContains(v4all, parseIP('192.0.2.1')!));
  assert.ok(!cidrContains(v4all, parseIP('fd00::1')!));
  assert.ok(cidrContains(v6all, parseIP('fd00::1')!));
  assert.ok(!cidrContains(v6all, parseIP('192.0.2.1')!));
  assert.ok(cidrContains(v4all, parseIP('::ffff:192.0.2.1')!), 'an IPv4-mapped address is IPv4');
  assert.ok(cidrContains(parseCIDR('10.244.1.0/24')!, parseIP('10.244.1.255')!));
  assert.ok(!cidrContains(parseCIDR('10.244.1.0/24')!, parseIP('10.244.2.0')!));
});

test('formatIP is RFC 5952', () => {
  for (const [input, want] of [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:1:1:1:1:0:1', '2001:db8:1:1:1:1:0:1'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['10.0.0.1', '10.0.0.1'],
  ]) {
    assert.equal(formatIP(parseIP(input)!), want, input);
  }
});
