import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDecode, typeErrors, unknownFields } from './fields.ts';

const POD = { group: '', version: 'v1', kind: 'Pod' };
const NETPOL = { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' };
const DEPLOY = { group: 'apps', version: 'v1', kind: 'Deployment' };

const unknownCases: Array<[string, { group: string; version: string; kind: string }, unknown, string[]]> = [
  ['a valid pod', POD, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1' } } }] } }, []],
  ['a misspelt container field', POD, { spec: { containers: [{ name: 'c' }, { name: 'd', imagePullPolcy: 'Always' }] } }, ['spec.containers[1].imagePullPolcy']],
  ['a capitalised spec field', NETPOL, { spec: { podSelector: {}, Egress: [] } }, ['spec.Egress']],
  ['fields deep in rules', NETPOL, { spec: { ingress: [{ from: [{ podSelectr: {} }], port: [] }] } }, ['spec.ingress[0].from[0].podSelectr', 'spec.ingress[0].port']],
  ['containers under template metadata', DEPLOY, { spec: { template: { metadata: { containers: [] } } } }, ['spec.template.metadata.containers']],
  ['a top-level typo', POD, { metdata: {} }, ['metdata']],
  ['fields newer than 1.32', POD, { spec: { hostnameOverride: 'x' } }, ['spec.hostnameOverride']],
];
for (const [name, gvk, obj, expected] of unknownCases) {
  test(`unknownFields: ${name}`, () => assert.deepEqual(unknownFields(gvk, obj), expected));
}

const typeCases: Array<[string, { group: string; version: string; kind: string }, unknown, string[]]> = [
  ['object for a list', NETPOL, { spec: { egress: [{ to: {} }] } }, ['json: cannot unmarshal object into Go struct field NetworkPolicyEgressRule.spec.egress.to of type []v1.NetworkPolicyPeer']],
  ['string for a named-type list', NETPOL, { spec: { policyTypes: 'Ingress' } }, ['json: cannot unmarshal string into Go struct field NetworkPolicySpec.spec.policyTypes of type []v1.PolicyType']],
  ['string for a struct', NETPOL, { spec: { podSelector: 'app=web' } }, ['json: cannot unmarshal string into Go struct field NetworkPolicySpec.spec.podSelector of type v1.LabelSelector']],
  ['fraction for an int-or-string', NETPOL, { spec: { ingress: [{ ports: [{ port: 80.5 }] }] } }, ['json: cannot unmarshal number 80.5 into Go struct field NetworkPolicyPort.spec.ingress.ports.port of type int32']],
  ['number for a label value', POD, { metadata: { labels: { a: 1 } } }, ['json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string']],
  ['string for an int32', POD, { spec: { containers: [{ ports: [{ containerPort: '80' }] }] } }, ['json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32']],
  ['number for a protocol', POD, { spec: { containers: [{ ports: [{ protocol: 6 }] }] } }, ['json: cannot unmarshal number into Go struct field ContainerPort.spec.containers.ports.protocol of type v1.Protocol']],
  ['bad quantity', POD, { spec: { containers: [{ resources: { limits: { cpu: 'lots' } } }] } }, ["quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"]],
  ['string for resource list', POD, { spec: { containers: [{ resources: { limits: '1' } }] } }, ['json: cannot unmarshal string into Go struct field ResourceRequirements.spec.containers.resources.limits of type v1.ResourceList']],
  ['overflowing int32', DEPLOY, { spec: { replicas: 4294967296 } }, ['json: cannot unmarshal number 4294967296 into Go struct field DeploymentSpec.spec.replicas of type int32']],
  ['array for a bool', POD, { spec: { hostNetwork: [] } }, ['json: cannot unmarshal array into Go struct field PodSpec.spec.hostNetwork of type bool']],
  ['nulls are fine', POD, { metadata: { labels: null }, spec: { containers: null, replicas: null } }, []],
  ['quantities as numbers are fine', POD, { spec: { containers: [{ resources: { limits: { cpu: 1, memory: '64Mi' } } }] } }, []],
];
for (const [name, gvk, obj, expected] of typeCases) {
  test(`typeErrors: ${name}`, () => assert.deepEqual(typeErrors(gvk, obj), expected));
}

test('unknown kinds are refused loudly', () => {
  assert.throws(() => checkDecode({ group: 'batch', version: 'v1', kind: 'Job' }, {}), /no schema for batch\/v1 Job/);
});
