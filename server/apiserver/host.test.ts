// The HTTPS host at the wire level: credentials and their Status bodies, limits on what a request
// may carry, discovery and OpenAPI documents, watch streams, and refusals of what is not served.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { createApiHost, type ApiHost, type EmbeddedCluster } from './index.ts';
import { createFixtureRuntime } from '../../test/kubectl/fixture-runtime.ts';

const NETWORK = { podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/16', dnsServiceIP: '10.96.0.10', clusterDomain: 'cluster.local', nodeName: 'node-1', externalHosts: [] };

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(host: ApiHost, path: string, opts: { method?: string; token?: string; headers?: Record<string, string>; body?: string | Buffer; until?: (text: string) => boolean } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    const req = request(`${host.url}${path}`, { method: opts.method ?? 'GET', headers, ca: host.caCertificate }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
        if (opts.until?.(body)) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', () => {});
    });
    req.on('error', (e) => (opts.until ? undefined : reject(e)));
    req.end(opts.body);
  });
}

describe('API host', () => {
  let host: ApiHost;
  let a: EmbeddedCluster;
  let b: EmbeddedCluster;
  before(async () => {
    host = await createApiHost({ port: 0 });
    a = await host.createCluster({ id: 'a', runtime: createFixtureRuntime(), network: NETWORK });
    b = await host.createCluster({ id: 'b', runtime: createFixtureRuntime(), network: NETWORK });
  });
  after(async () => {
    await host.close();
  });

  test('no token or a wrong one is 401; another cluster\'s token is 403 with the authorizer\'s wording', async () => {
    const unauthorized = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
    for (const token of [undefined, 'nope', `${a.token}x`]) {
      const r = await call(host, '/clusters/a/api/v1/namespaces', { token });
      assert.equal(r.status, 401);
      assert.deepEqual(JSON.parse(r.body), unauthorized);
    }
    const r = await call(host, '/clusters/a/api/v1/namespaces/default/pods', { token: b.token });
    assert.equal(r.status, 403);
    assert.deepEqual(JSON.parse(r.body), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods is forbidden: User "system:serviceaccount:kubelab:b" cannot list resource "pods" in API group "" in the namespace "default"',
      reason: 'Forbidden',
      details: { kind: 'pods' },
      code: 403,
    });
    assert.equal((await call(host, '/clusters/zzz/api', { token: a.token })).status, 403);
    assert.equal((await call(host, '/clusters/a/api/v1/namespaces', { token: a.token })).status, 200);
  });

  test('discovery: aggregated when asked (same type on /api and /apis), legacy otherwise; version 1.32', async () => {
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';
    const api = await call(host, '/clusters/a/api', { token: a.token, headers: { Accept: accept } });
    const apis = await call(host, '/clusters/a/apis', { token: a.token, headers: { Accept: accept } });
    assert.equal(api.headers['content-type'], 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    assert.equal(apis.headers['content-type'], api.headers['content-type']);
    const pods = JSON.parse(api.body).items[0].versions[0].resources.find((r: { resource: string }) => r.resource === 'pods');
    assert.deepEqual(pods.shortNames, ['po']);
    assert.deepEqual(pods.categories, ['all']);
    assert.deepEqual(pods.subresources.map((s: { subresource: string }) => s.subresource), ['attach', 'exec', 'log', 'status']);
    assert.deepEqual(JSON.parse(apis.body).items.map((g: { metadata: { name: string } }) => g.metadata.name), ['apps', 'networking.k8s.io', 'discovery.k8s.io']);
    const legacy = JSON.parse((await call(host, '/clusters/a/api', { token: a.token })).body);
    assert.equal(legacy.kind, 'APIVersions');
    const list = JSON.parse((await call(host, '/clusters/a/apis/networking.k8s.io/v1', { token: a.token })).body);
    assert.deepEqual(list.resources.map((r: { name: string }) => r.name), ['networkpolicies']);
    assert.equal(JSON.parse((await call(host, '/clusters/a/version', { token: a.token })).body).minor, '32');
    const cached = await call(host, '/clusters/a/api', { token: a.token, headers: { Accept: accept, 'If-None-Match': String(api.headers.etag) } });
    assert.equal(cached.status, 304);
  });

  test('OpenAPI v3: every group/version listed under the cluster prefix, documents cacheable by hash', async () => {
    const index = JSON.parse((await call(host, '/clusters/a/openapi/v3', { token: a.token })).body);
    for (const gv of ['api/v1', 'apis/apps/v1', 'apis/networking.k8s.io/v1', 'apis/discovery.k8s.io/v1']) {
      assert.match(index.paths[gv].serverRelativeURL, new RegExp(`^/clusters/a/openapi/v3/${gv.replace(/\./g, '\\.')}\\?hash=[0-9A-F]+$`));
    }
    const doc = await call(host, index.paths['apis/networking.k8s.io/v1'].serverRelativeURL, { token: a.token });
    assert.equal(doc.status, 200);
    assert.match(String(doc.headers['cache-control']), /immutable/);
    assert.equal(JSON.parse(doc.body).openapi.startsWith('3.'), true);
    const v2 = await call(host, '/clusters/a/openapi/v2', { token: a.token });
    assert.equal(v2.status, 200);
    assert.equal(JSON.parse(v2.body).swagger, '2.0');
  });

  test('bodies: 413 above 3 MiB, YAML alias bombs refused, __proto__ keys stay data', async () => {
    const big = JSON.stringify({ metadata: { name: 'big' }, data: { x: 'a'.repeat(3 * 1024 * 1024) } });
    const tooLarge = await call(host, '/clusters/a/api/v1/namespaces/default/configmaps', { method: 'POST', token: a.token, headers: { 'Content-Type': 'application/json' }, body: big });
    assert.equal(tooLarge.status, 413);
    assert.deepEqual(JSON.parse(tooLarge.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Request entity too large: limit is 3145728', reason: 'RequestEntityTooLarge', code: 413 });
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const bomb = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  x: y\nextra:\n${lines.map((l) => '  ' + l).join('\n')}\n`;
    const started = Date.now();
    const refused = await call(host, '/clusters/a/api/v1/namespaces/default/configmaps', { method: 'POST', token: a.token, headers: { 'Content-Type': 'application/yaml' }, body: bomb });
    assert.equal(refused.status, 400);
    assert.match(JSON.parse(refused.body).message, /^error converting YAML to JSON: /);
    assert.ok(Date.now() - started < 5000);
    const proto = '{"metadata":{"name":"proto","labels":{"__proto__":{"polluted":"yes"}}},"data":{"__proto__":"x"}}';
    const r = await call(host, '/clusters/a/api/v1/namespaces/default/configmaps?fieldValidation=Ignore', { method: 'POST', token: a.token, headers: { 'Content-Type': 'application/json' }, body: proto });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.ok(r.status === 201 || r.status === 400 || r.status === 422, r.body);
    const deep = `{"metadata":{"name":"deep"},"extra":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    const tooDeep = await call(host, '/clusters/a/api/v1/namespaces/default/configmaps?fieldValidation=Ignore', { method: 'POST', token: a.token, headers: { 'Content-Type': 'application/json' }, body: deep });
    assert.equal(tooDeep.status, 400);
    assert.match(JSON.parse(tooDeep.body).message, /exceeded max depth/);
    const notJson = await call(host, '/clusters/a/api/v1/namespaces/default/configmaps', { method: 'POST', token: a.token, headers: { 'Content-Type': 'application/json' }, body: '{"metadata": ' });
    assert.equal(notJson.status, 400);
    assert.match(JSON.parse(notJson.body).message, /^couldn't get version\/kind; json parse error: /);
  });

  test('refusals: unknown paths, unsupported verbs, SPDY exec without a protocol version', async () => {
    const missing = await call(host, '/clusters/a/api/v1/namespaces/default/widgets', { token: a.token });
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.body).message, 'the server could not find the requested resource');
    const verb = await call(host, '/clusters/a/api/v1/namespaces', { method: 'DELETE', token: a.token });
    assert.equal(verb.status, 405);
    assert.equal(JSON.parse(verb.body).reason, 'MethodNotAllowed');
    await a.settle();
    const coredns = a.state.list('pods', 'kube-system')[0].metadata.name;
    const spdy = await call(host, `/clusters/a/api/v1/namespaces/kube-system/pods/${coredns}/exec?command=sh&stdout=true`, { method: 'POST', token: a.token, headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' } });
    assert.equal(spdy.status, 400);
    assert.match(JSON.parse(spdy.body).message, /X-Stream-Protocol-Version is required/);
    const gone = await call(host, '/clusters/a/api/v1/namespaces/kube-system/pods/nope/exec?command=sh&stdout=true', { method: 'POST', token: a.token, headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' } });
    assert.equal(gone.status, 404, 'the reason comes before the transport');
    assert.equal(JSON.parse(gone.body).message, 'pods "nope" not found');
  });

  test('watch: Table events with one row (column definitions once), ends at timeoutSeconds', async () => {
    const started = Date.now();
    const w = await call(host, '/clusters/a/api/v1/namespaces?watch=true&timeoutSeconds=1', {
      token: a.token,
      headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
    });
    assert.ok(Date.now() - started >= 900, 'the stream stays open until the timeout');
    const events = w.body.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(events.length >= 4);
    assert.equal(events[0].type, 'ADDED');
    assert.equal(events[0].object.kind, 'Table');
    assert.equal(events[0].object.rows.length, 1);
    assert.deepEqual(events[0].object.columnDefinitions.map((c: { name: string }) => c.name), ['Name', 'Status', 'Age']);
    assert.deepEqual(events[1].object.columnDefinitions, [], 'later events carry no column definitions');
    assert.equal(events[0].object.rows[0].object.kind, 'PartialObjectMetadata');
  });
});
