// NetworkPolicy validation against kube-apiserver 1.32: one valid policy, then named exceptions,
// each a mutation of it and the exact `field: message` lines the API server returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkPolicy } from './types.ts';
import { formatFieldError } from './fielderror.ts';
import { validateNetworkPolicy } from './validate.ts';
import { defaultNetworkPolicy } from './defaults.ts';

function base(): NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'allow-payment-api-ingress', namespace: 'payments', labels: { team: 'payments' } },
    spec: {
      podSelector: { matchLabels: { app: 'payment-api' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'production' } }, podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['checkout-api'] }] } },
            { ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] } },
          ],
          ports: [{ protocol: 'TCP', port: 8080 }, { port: 'metrics' }, { protocol: 'UDP', port: 9000, endPort: 9100 }],
        },
      ],
      egress: [{ to: [{ ipBlock: { cidr: '2001:db8::/32', except: ['2001:db8:1::/48'] } }], ports: [{ protocol: 'SCTP' }] }],
    },
  };
}

const SUBDOMAIN_RE = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_RE = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const QNAME_RE = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_RE = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const CIDR_MSG = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

type Mutation = (p: NetworkPolicy) => void;
const ing = (p: NetworkPolicy) => p.spec.ingress![0];

const exceptions: Array<[string, Mutation, string[]]> = [
  // metadata
  ['missing name', (p) => delete p.metadata.name, ['metadata.name: Required value: name or generateName is required']],
  ['name with capitals', (p) => (p.metadata.name = 'Allow'), [`metadata.name: Invalid value: "Allow": ${SUBDOMAIN_RE}`]],
  ['name with dots is a valid subdomain', (p) => (p.metadata.name = 'allow.payments.v1'), []],
  ['name too long', (p) => (p.metadata.name = 'a'.repeat(254)), [`metadata.name: Invalid value: "${'a'.repeat(254)}": must be no more than 253 characters`]],
  ['missing namespace', (p) => delete p.metadata.namespace, ['metadata.namespace: Required value']],
  ['namespace with a dot', (p) => (p.metadata.namespace = 'pay.ments'), [`metadata.namespace: Invalid value: "pay.ments": ${LABEL_RE}`]],
  ['bad label key', (p) => (p.metadata.labels = { 'bad key': 'x' }), [`metadata.labels: Invalid value: "bad key": ${QNAME_RE}`]],
  ['bad label value', (p) => (p.metadata.labels = { team: '-x' }), [`metadata.labels: Invalid value: "-x": ${VALUE_RE}`]],
  ['label value too long', (p) => (p.metadata.labels = { team: 'a'.repeat(64) }), [`metadata.labels: Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`]],
  ['label key with empty prefix', (p) => (p.metadata.labels = { '/app': 'x' }), ['metadata.labels: Invalid value: "/app": prefix part must be non-empty']],
  ['label key with bad prefix', (p) => (p.metadata.labels = { 'Example.com/app': 'x' }), [`metadata.labels: Invalid value: "Example.com/app": prefix part ${SUBDOMAIN_RE}`]],
  ['label key with two slashes', (p) => (p.metadata.labels = { 'a/b/c': 'x' }), [
    `metadata.labels: Invalid value: "a/b/c": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
  ]],
  ['label key name part too long', (p) => (p.metadata.labels = { ['k'.repeat(64)]: 'x' }), [`metadata.labels: Invalid value: "${'k'.repeat(64)}": name part must be no more than 63 characters`]],
  ['empty label value is valid', (p) => (p.metadata.labels = { team: '' }), []],
  ['annotations too large', (p) => (p.metadata.annotations = { note: 'x'.repeat(262144) }), ['metadata.annotations: Too long: must have at most 262144 bytes']],
  // selectors
  ['In without values', (p) => (p.spec.podSelector = { matchExpressions: [{ key: 'app', operator: 'In' }] }), [
    "spec.podSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
  ]],
  ['NotIn with empty values', (p) => (p.spec.podSelector = { matchExpressions: [{ key: 'app', operator: 'NotIn', values: [] }] }), [
    "spec.podSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
  ]],
  ['Exists with values', (p) => (p.spec.podSelector = { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['a'] }] }), [
    "spec.podSelector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
  ]],
  ['DoesNotExist with values', (p) => (p.spec.podSelector = { matchExpressions: [{ key: 'app', operator: 'DoesNotExist', values: ['a'] }] }), [
    "spec.podSelector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
  ]],
  ['unknown operator (case-sensitive)', (p) => (p.spec.podSelector = { matchExpressions: [{ key: 'app', operator: 'in', values: ['a'] }] }), [
    'spec.podSelector.matchExpressions[0].operator: Invalid value: "in": not a valid selector operator',
  ]],
  ['bad expression key and value', (p) => (p.spec.podSelector = { matchExpressions: [{ key: 'a b', operator: 'In', values: ['ok', 'not ok'] }] }), [
    `spec.podSelector.matchExpressions[0].key: Invalid value: "a b": ${QNAME_RE}`,
    `spec.podSelector.matchExpressions[0].values[1]: Invalid value: "not ok": ${VALUE_RE}`,
  ]],
  ['empty expression key', (p) => (p.spec.podSelector = { matchExpressions: [{ key: '', operator: 'Exists' }] }), [
    'spec.podSelector.matchExpressions[0].key: Invalid value: "": name part must be non-empty',
    `spec.podSelector.matchExpressions[0].key: Invalid value: "": ${QNAME_RE}`,
  ]],
  ['bad matchLabels value in a peer', (p) => (ing(p).from![0].podSelector = { matchLabels: { app: 'checkout api' } }), [
    `spec.ingress[0].from[0].podSelector.matchLabels: Invalid value: "checkout api": ${VALUE_RE}`,
  ]],
  ['bad namespaceSelector key', (p) => (ing(p).from![0].namespaceSelector = { matchLabels: { '-team': 'x' } }), [
    `spec.ingress[0].from[0].namespaceSelector.matchLabels: Invalid value: "-team": ${QNAME_RE}`,
  ]],
  // ports
  ['unsupported protocol', (p) => (ing(p).ports![0].protocol = 'ICMP'), ['spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"']],
  ['lower-case protocol', (p) => (ing(p).ports![0].protocol = 'tcp'), ['spec.ingress[0].ports[0].protocol: Unsupported value: "tcp": supported values: "TCP", "UDP", "SCTP"']],
  ['empty protocol', (p) => (ing(p).ports![0].protocol = ''), ['spec.ingress[0].ports[0].protocol: Unsupported value: "": supported values: "TCP", "UDP", "SCTP"']],
  ['port above range', (p) => (ing(p).ports![0].port = 70000), ['spec.ingress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive']],
  ['port zero', (p) => (ing(p).ports![0].port = 0), ['spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive']],
  ['endPort below port', (p) => (ing(p).ports![2].endPort = 79), ['spec.ingress[0].ports[2].endPort: Invalid value: 79: must be greater than or equal to `port`']],
  ['endPort above range', (p) => (ing(p).ports![2].endPort = 65536), ['spec.ingress[0].ports[2].endPort: Invalid value: 65536: must be between 1 and 65535, inclusive']],
  ['endPort equal to port', (p) => (ing(p).ports![2].endPort = 9000), []],
  ['endPort with named port', (p) => (ing(p).ports![1].endPort = 90), ['spec.ingress[0].ports[1].endPort: Invalid value: 90: may not be specified when `port` is non-numeric']],
  ['endPort without port', (p) => (ing(p).ports = [{ protocol: 'TCP', endPort: 90 }]), ['spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is not specified']],
  ['no port at all', (p) => (ing(p).ports = [{ protocol: 'UDP' }]), []],
  ['named port too long', (p) => (ing(p).ports![1].port = 'a-very-long-port-name'), ['spec.ingress[0].ports[1].port: Invalid value: "a-very-long-port-name": must be no more than 15 characters']],
  ['named port upper case', (p) => (ing(p).ports![1].port = 'Metrics'), ['spec.ingress[0].ports[1].port: Invalid value: "Metrics": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)']],
  ['named port all digits as a string', (p) => (ing(p).ports![1].port = '8080'), ['spec.ingress[0].ports[1].port: Invalid value: "8080": must contain at least one letter (a-z)']],
  ['named port double hyphen', (p) => (ing(p).ports![1].port = 'a--b'), ['spec.ingress[0].ports[1].port: Invalid value: "a--b": must not contain consecutive hyphens']],
  ['named port hyphen ends', (p) => (ing(p).ports![1].port = '-ab-'), ['spec.ingress[0].ports[1].port: Invalid value: "-ab-": must not begin or end with a hyphen']],
  ['empty named port', (p) => (ing(p).ports![1].port = ''), [
    'spec.ingress[0].ports[1].port: Invalid value: "": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    'spec.ingress[0].ports[1].port: Invalid value: "": must contain at least one letter (a-z)',
  ]],
  // peers
  ['empty peer', (p) => (ing(p).from = [{}]), ['spec.ingress[0].from[0]: Required value: must specify a peer']],
  ['ipBlock with podSelector', (p) => (ing(p).from![1].podSelector = {}), ['spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer']],
  ['ipBlock with namespaceSelector in egress', (p) => (p.spec.egress![0].to![0].namespaceSelector = {}), ['spec.egress[0].to[0]: Forbidden: may not specify both ipBlock and another peer']],
  ['podSelector and namespaceSelector together', (p) => (ing(p).from = [{ podSelector: {}, namespaceSelector: {} }]), []],
  // ipBlock
  ['empty cidr', (p) => (ing(p).from![1].ipBlock = { cidr: '' }), ['spec.ingress[0].from[1].ipBlock.cidr: Required value']],
  ['prefix too long', (p) => (ing(p).from![1].ipBlock = { cidr: '10.0.0.0/33' }), [`spec.ingress[0].from[1].ipBlock.cidr: Invalid value: "10.0.0.0/33": ${CIDR_MSG}`]],
  ['no prefix', (p) => (ing(p).from![1].ipBlock = { cidr: '10.0.0.1' }), [`spec.ingress[0].from[1].ipBlock.cidr: Invalid value: "10.0.0.1": ${CIDR_MSG}`]],
  ['garbage cidr', (p) => (ing(p).from![1].ipBlock = { cidr: 'ten/8' }), [`spec.ingress[0].from[1].ipBlock.cidr: Invalid value: "ten/8": ${CIDR_MSG}`]],
  ['IPv6 prefix too long', (p) => (p.spec.egress![0].to![0].ipBlock = { cidr: '2001:db8::/129' }), [`spec.egress[0].to[0].ipBlock.cidr: Invalid value: "2001:db8::/129": ${CIDR_MSG}`]],
  ['host bits set are accepted', (p) => (ing(p).from![1].ipBlock = { cidr: '10.0.0.1/24' }), []],
  ['leading zeros are accepted', (p) => (ing(p).from![1].ipBlock = { cidr: '010.000.0.0/16' }), []],
  ['except equal to cidr', (p) => (ing(p).from![1].ipBlock = { cidr: '10.0.0.0/8', except: ['10.0.0.0/8'] }), ['spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`']],
  ['except wider than cidr', (p) => (ing(p).from![1].ipBlock = { cidr: '10.0.0.0/16', except: ['10.0.0.0/8'] }), ['spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`']],
  ['except outside cidr', (p) => (ing(p).from![1].ipBlock = { cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] }), ['spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`']],
  ['except of the other family', (p) => (ing(p).from![1].ipBlock = { cidr: '10.0.0.0/8', except: ['2001:db8::/64'] }), ['spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "2001:db8::/64": must be a strict subset of `cidr`']],
  ['unparsable except', (p) => (ing(p).from![1].ipBlock = { cidr: '10.0.0.0/8', except: ['10.1.0.0'] }), [`spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "10.1.0.0": ${CIDR_MSG}`]],
  ['IPv6 except outside', (p) => (p.spec.egress![0].to![0].ipBlock = { cidr: '2001:db8::/32', except: ['2001:db9::/48'] }), ['spec.egress[0].to[0].ipBlock.except[0]: Invalid value: "2001:db9::/48": must be a strict subset of `cidr`']],
  ['catch-all IPv4 and IPv6', (p) => (ing(p).from = [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] } }, { ipBlock: { cidr: '::/0' } }]), []],
  // policyTypes
  ['lower-case policy type', (p) => (p.spec.policyTypes = ['egress']), ['spec.policyTypes[0]: Unsupported value: "egress": supported values: "Ingress", "Egress"']],
  ['unknown second policy type', (p) => (p.spec.policyTypes = ['Ingress', 'Both']), ['spec.policyTypes[1]: Unsupported value: "Both": supported values: "Ingress", "Egress"']],
  ['duplicate policy types are accepted', (p) => (p.spec.policyTypes = ['Ingress', 'Ingress']), []],
  ['three policy types', (p) => (p.spec.policyTypes = ['Ingress', 'Egress', 'egress']), [
    'spec.policyTypes: Invalid value: []networking.PolicyType{"Ingress", "Egress", "egress"}: may not specify more than two policyTypes',
  ]],
  ['empty rules and lists', (p) => {
    p.spec.ingress = [{}];
    p.spec.egress = [];
  }, []],
  ['several errors keep upstream order', (p) => {
    p.metadata.name = 'Bad';
    p.spec.policyTypes = ['ingress'];
    ing(p).ports = [{ protocol: 'ICMP', port: 0 }];
    ing(p).from = [{}];
  }, [
    `metadata.name: Invalid value: "Bad": ${SUBDOMAIN_RE}`,
    'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
    'spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    'spec.ingress[0].from[0]: Required value: must specify a peer',
    'spec.policyTypes[0]: Unsupported value: "ingress": supported values: "Ingress", "Egress"',
  ]],
];

test('the base policy is valid', () => {
  assert.deepEqual(validateNetworkPolicy(base()).map(formatFieldError), []);
});

for (const [name, mutate, expected] of exceptions) {
  test(`validation: ${name}`, () => {
    const p = base();
    mutate(p);
    assert.deepEqual(validateNetworkPolicy(p).map(formatFieldError), expected);
  });
}

test('error types are Status cause reasons', () => {
  const p = base();
  p.spec.policyTypes = ['egress'];
  ing(p).from = [{}, { ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }];
  p.metadata.labels = { x: 'a b' };
  p.metadata.annotations = { big: 'x'.repeat(300000) };
  assert.deepEqual(
    validateNetworkPolicy(p).map((e) => [e.field, e.type]),
    [
      ['metadata.labels', 'FieldValueInvalid'],
      ['metadata.annotations', 'FieldValueTooLong'],
      ['spec.ingress[0].from[0]', 'FieldValueRequired'],
      ['spec.ingress[0].from[1]', 'FieldValueForbidden'],
      ['spec.policyTypes[0]', 'FieldValueNotSupported'],
    ],
  );
});

test('bad values are quoted like Go %q', () => {
  const p = base();
  p.metadata.name = 'tab\there "q" é';
  const [e] = validateNetworkPolicy(p);
  assert.equal(e.message.slice(0, 40), 'Invalid value: "tab\\there \\"q\\" é": a lo');
});

test('defaulting: protocol TCP, policyTypes from the rules, input untouched', () => {
  const p: NetworkPolicy = {
    metadata: { name: 'np', namespace: 'x' },
    spec: { podSelector: {}, ingress: [{ ports: [{ port: 80 }, { protocol: 'UDP', port: 53 }] }], egress: [{ ports: [{ port: 'dns' }] }] },
  };
  const d = defaultNetworkPolicy(p);
  assert.deepEqual(d.spec.policyTypes, ['Ingress', 'Egress']);
  assert.deepEqual(d.spec.ingress![0].ports, [{ port: 80, protocol: 'TCP' }, { protocol: 'UDP', port: 53 }]);
  assert.deepEqual(d.spec.egress![0].ports, [{ port: 'dns', protocol: 'TCP' }]);
  assert.equal(p.spec.policyTypes, undefined);
  assert.equal(p.spec.ingress![0].ports![0].protocol, undefined);
});

test('defaulting: policyTypes', () => {
  const cases: Array<[Partial<NetworkPolicy['spec']>, string[]]> = [
    [{}, ['Ingress']],
    [{ egress: [] }, ['Ingress']],
    [{ policyTypes: [] }, ['Ingress']],
    [{ egress: [{}] }, ['Ingress', 'Egress']],
    [{ policyTypes: ['Egress'] }, ['Egress']],
    [{ policyTypes: ['Egress'], ingress: [{}] }, ['Egress']],
  ];
  for (const [spec, want] of cases) {
    const d = defaultNetworkPolicy({ metadata: { name: 'n', namespace: 'x' }, spec: { podSelector: {}, ...spec } });
    assert.deepEqual(d.spec.policyTypes, want, JSON.stringify(spec));
  }
});
