import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openapiV3Document, openapiV3Paths } from './openapi.ts';

type Obj = Record<string, any>;

test('index lists every served group/version with a hashed document URL', () => {
  const paths = openapiV3Paths();
  assert.deepEqual(Object.keys(paths).sort(), ['api/v1', 'apis/apps/v1', 'apis/discovery.k8s.io/v1', 'apis/events.k8s.io/v1', 'apis/networking.k8s.io/v1']);
  assert.match(paths['api/v1'].serverRelativeURL, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
  assert.notEqual(paths['api/v1'].serverRelativeURL.split('=')[1], paths['apis/apps/v1'].serverRelativeURL.split('=')[1]);
});

test('unknown group/versions have no document', () => {
  assert.equal(openapiV3Document('apis/batch/v1'), undefined);
  assert.equal(openapiV3Document('apis/__proto__'), undefined);
});

test('documents are built once and shared', () => {
  assert.equal(openapiV3Document('api/v1'), openapiV3Document('/api/v1/'));
});

// kubectl's QueryParamVerifierV3: a PATCH operation for the GVK that declares fieldValidation
// means server-side validation; kubectl's patcher needs the strategic-merge-patch request body.
const kinds: Array<[string, string, string, string]> = [
  ['api/v1', '/api/v1/namespaces/{namespace}/pods/{name}', '', 'Pod'],
  ['api/v1', '/api/v1/namespaces/{name}', '', 'Namespace'],
  ['api/v1', '/api/v1/namespaces/{namespace}/services/{name}', '', 'Service'],
  ['apis/networking.k8s.io/v1', '/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies/{name}', 'networking.k8s.io', 'NetworkPolicy'],
  ['apis/apps/v1', '/apis/apps/v1/namespaces/{namespace}/deployments/{name}', 'apps', 'Deployment'],
  ['apis/discovery.k8s.io/v1', '/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices/{name}', 'discovery.k8s.io', 'EndpointSlice'],
];
for (const [gv, path, group, kind] of kinds) {
  test(`${kind}: PATCH declares its GVK, fieldValidation and strategic merge patch`, () => {
    const doc = openapiV3Document(gv) as Obj;
    const op = doc.paths[path].patch;
    assert.deepEqual(op['x-kubernetes-group-version-kind'], { group, version: 'v1', kind });
    assert.ok(op.parameters.some((p: Obj) => p.name === 'fieldValidation' && p.in === 'query'));
    assert.ok(op.requestBody.content['application/strategic-merge-patch+json']);
    const schemas = doc.components.schemas;
    const def = Object.values(schemas).find((s: any) => s['x-kubernetes-group-version-kind']?.some((g: Obj) => g.kind === kind && g.group === group)) as Obj;
    assert.ok(def, `a component schema carries the ${kind} GVK`);
    assert.ok(def.description, `${kind} has a description for kubectl explain`);
  });
}

test('every $ref resolves inside its document', () => {
  for (const gv of Object.keys(openapiV3Paths())) {
    const doc = openapiV3Document(gv) as Obj;
    const refs = JSON.stringify(doc).match(/"\$ref":"#\/components\/schemas\/[^"]+"/g) ?? [];
    for (const r of refs) {
      const name = r.slice('"$ref":"#/components/schemas/'.length, -1);
      assert.ok(doc.components.schemas[name], `${gv}: ${name} is defined`);
    }
  }
});

test('patch metadata matches the Go struct tags kubectl compiles in', () => {
  const s = (openapiV3Document('api/v1') as Obj).components.schemas;
  const containers = s['io.k8s.api.core.v1.PodSpec'].properties.containers;
  assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  const volumes = s['io.k8s.api.core.v1.PodSpec'].properties.volumes;
  assert.equal(volumes['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  assert.equal(s['io.k8s.api.core.v1.Container'].properties.ports['x-kubernetes-patch-merge-key'], 'containerPort');
  assert.equal(s['io.k8s.api.core.v1.ServiceSpec'].properties.ports['x-kubernetes-patch-merge-key'], 'port');
  const np = (openapiV3Document('apis/networking.k8s.io/v1') as Obj).components.schemas['io.k8s.api.networking.v1.NetworkPolicySpec'];
  assert.equal(np.properties.ingress['x-kubernetes-patch-strategy'], undefined);
  assert.equal(np.properties.ingress['x-kubernetes-list-type'], 'atomic');
});

test('struct references are wrapped in allOf with their description, as kube-openapi does', () => {
  const spec = (openapiV3Document('apis/networking.k8s.io/v1') as Obj).components.schemas['io.k8s.api.networking.v1.NetworkPolicySpec'];
  assert.deepEqual(spec.properties.ingress.items.allOf, [{ $ref: '#/components/schemas/io.k8s.api.networking.v1.NetworkPolicyIngressRule' }]);
  assert.match(spec.properties.ingress.description, /ingress is a list of ingress rules/);
});
