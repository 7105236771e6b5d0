// Bad input to the embedded Kubernetes API over HTTPS: thousands of generated broken manifests
// (test/reliability/generate.ts), YAML alias bombs, bodies past the 3 MiB limit, and keys that
// try to reach Object.prototype. What must hold: nothing crashes or answers 500, every refusal is
// a kube-apiserver Status (400 BadRequest or 422 Invalid with details.causes[].field) that names
// the field when one mutation caused it, nothing refused is stored, and a good request still
// works afterwards.
//
// KUBELAB_RELIABILITY_MANIFESTS (default 10000) and KUBELAB_RELIABILITY_SEED (default 1) choose
// the stream; a failure prints the case index to reproduce it with generateCase(seed, index).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { createApiHost, type ApiHost, type EmbeddedCluster } from '../../server/apiserver/index.ts';
import { createFixtureRuntime } from '../kubectl/fixture-runtime.ts';
import { collections, generateCase, type Case, type Kind } from './generate.ts';

const COUNT = Number(process.env.KUBELAB_RELIABILITY_MANIFESTS ?? 10_000);
const SEED = Number(process.env.KUBELAB_RELIABILITY_SEED ?? 1);
const NS = 'fuzz';
const NETWORK = { podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/16', dnsServiceIP: '10.96.0.10', clusterDomain: 'cluster.local', nodeName: 'kubelab-control-plane', externalHosts: [] };

interface Reply {
  status: number;
  body: string;
  /** bytes of the request body written before the answer came */
  written: number;
}

describe('bad manifests against the embedded API', () => {
  let host: ApiHost;
  let cluster: EmbeddedCluster;
  let agent: https.Agent;
  const internalErrors: string[] = [];
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();

  const call = (method: string, path: string, body?: Buffer | string, contentType = 'application/json'): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
      const req = https.request(
        `${cluster.server}${path}`,
        {
          method,
          agent,
          ca: host.caCertificate,
          headers: { Authorization: `Bearer ${cluster.token}`, Accept: 'application/json', ...(payload ? { 'Content-Type': contentType, 'Content-Length': payload.length } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), written: req.socket?.bytesWritten ?? 0 }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  before(async () => {
    host = await createApiHost({ port: 0, onError: (id, where, err) => internalErrors.push(`[${id}] ${where}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`) });
    cluster = await host.createCluster({ id: 'fuzz', runtime: createFixtureRuntime(), network: NETWORK });
    agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
    const ns = await call('POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }));
    assert.equal(ns.status, 201, ns.body);
  });
  after(async () => {
    agent.destroy();
    await host.close();
  });

  /** What is wrong with one answer, or undefined when it is what kube-apiserver would send. */
  function judge(c: Case, r: Reply): string | undefined {
    if (r.status >= 200 && r.status < 300) return undefined;
    // accepted Deployments may fill the cluster's pod quota for a moment: kube's own 403 for that
    const quota = r.status === 403 && /"reason":"Forbidden"/.test(r.body) && /exceeded quota/.test(r.body);
    if (![400, 413, 415, 422].includes(r.status) && !quota) return `HTTP ${r.status} (want 2xx, 400, 413 or 422): ${r.body.slice(0, 300)}`;
    let s: { kind?: unknown; apiVersion?: unknown; status?: unknown; code?: unknown; reason?: unknown; message?: unknown; details?: { causes?: Array<{ field?: unknown; message?: unknown; reason?: unknown }> } };
    try {
      s = JSON.parse(r.body);
    } catch {
      return `HTTP ${r.status} with a body that is not JSON: ${r.body.slice(0, 200)}`;
    }
    if (s.kind !== 'Status' || s.apiVersion !== 'v1' || s.status !== 'Failure') return `not a Status: ${r.body.slice(0, 300)}`;
    if (s.code !== r.status) return `Status code ${String(s.code)} differs from HTTP ${r.status}`;
    if (typeof s.message !== 'string' || s.message.length === 0) return 'Status without a message';
    const wantReason = { 400: 'BadRequest', 403: 'Forbidden', 413: 'RequestEntityTooLarge', 415: 'UnsupportedMediaType', 422: 'Invalid' }[r.status];
    if (s.reason !== wantReason) return `reason ${String(s.reason)} for HTTP ${r.status} (want ${wantReason})`;
    if (r.status === 422) {
      const causes = s.details?.causes;
      if (!Array.isArray(causes) || causes.length === 0) return `422 without details.causes: ${r.body.slice(0, 300)}`;
      for (const cause of causes) {
        if (typeof cause.field !== 'string' || cause.field === '') return `a cause without a field: ${JSON.stringify(cause).slice(0, 200)}`;
        if (typeof cause.message !== 'string' || typeof cause.reason !== 'string') return `a cause without message or reason: ${JSON.stringify(cause).slice(0, 200)}`;
      }
      if (!s.message.includes(String(causes[0].field))) return `422 message does not name ${String(causes[0].field)}: ${s.message.slice(0, 300)}`;
    }
    // one mutation: the answer must point at it
    const only = c.applied.length === 1 ? c.applied[0] : undefined;
    if (only?.names) {
      const field = only.names.field;
      if (only.names.in === 'message' && r.status === 400 && !s.message.includes(field)) return `the error does not name ${field}: ${s.message.slice(0, 300)}`;
      if (only.names.in === 'cause' && r.status === 422) {
        const fields = (s.details?.causes ?? []).map((x) => String(x.field));
        if (!fields.some((f) => f === field || f.startsWith(`${field}.`) || f.startsWith(`${field}[`))) return `no cause names ${field} (causes: ${fields.join(', ')})`;
      }
    }
    return undefined;
  }

  test(`${COUNT} generated bad manifests: each refused with a Status naming the field, none crashes the server`, { timeout: 600_000 }, async (t) => {
    const problems: string[] = [];
    const byStatus = new Map<number, number>();
    const accepted: Array<{ kind: Kind; name: string }> = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < COUNT; i = next++) {
        const c = generateCase(SEED, i, NS);
        let r: Reply;
        try {
          r = await call('POST', c.path, c.body, c.contentType);
        } catch (err) {
          problems.push(`${c.description}: the request failed: ${err instanceof Error ? err.message : String(err)}`);
          continue;
        }
        byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
        const wrong = judge(c, r);
        if (wrong) problems.push(`${c.description}: ${wrong}`);
        if (r.status >= 200 && r.status < 300) {
          const stored = JSON.parse(r.body) as { metadata?: { name?: string } };
          const name = stored.metadata?.name ?? c.name;
          accepted.push({ kind: c.kind, name });
          const d = await call('DELETE', `${c.path}/${encodeURIComponent(name)}?gracePeriodSeconds=0&propagationPolicy=Background`);
          if (d.status !== 200 && d.status !== 202) problems.push(`${c.description}: accepted, then DELETE answered ${d.status}: ${d.body.slice(0, 200)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    t.diagnostic(`answers: ${[...byStatus].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')}; ${accepted.length} accepted (each deleted again)`);
    assert.deepEqual(internalErrors, [], 'no internal errors in the API server');
    assert.equal(problems.length, 0, `${problems.length} wrong answers, first ones:\n${problems.slice(0, 15).join('\n')}`);

    // nothing refused was stored, and what was accepted is gone again (pods and replica sets too)
    await cluster.settle();
    for (const kind of ['NetworkPolicy', 'Pod', 'Service', 'Deployment'] as const) {
      const list = await call('GET', collections[kind].replace('{ns}', NS));
      assert.equal(list.status, 200);
      const left = (JSON.parse(list.body) as { items: Array<{ metadata: { name: string } }> }).items.map((o) => o.metadata.name);
      assert.deepEqual(left, [], `${kind}s left in ${NS}: ${left.slice(0, 5).join(', ')}`);
    }
  });

  test('a YAML alias bomb is refused without being expanded', async () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const n = String.fromCharCode(97 + i);
      lines.push(`${n}: &${n} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    }
    const bomb = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\n  annotations:\n${lines.map((l) => `    ${l}`).join('\n')}\n`;
    // fully expanded this is 9^9 strings (gigabytes): answering at all proves it was never built
    const r = await call('POST', `/api/v1/namespaces/${NS}/configmaps`, bomb, 'application/yaml');
    assert.equal(r.status, 400, r.body);
    const s = JSON.parse(r.body) as { reason: string; message: string };
    assert.equal(s.reason, 'BadRequest');
    assert.match(s.message, /^error converting YAML to JSON: .*alias/i);
  });

  test('a body past 3 MiB is refused with 413 before the server reads it all', async () => {
    // 64 MiB offered: the answer must come while most of it is still unsent
    const total = 64 * 1024 * 1024;
    const r = await new Promise<Reply>((resolve, reject) => {
      const req = https.request(`${cluster.server}/api/v1/namespaces/${NS}/configmaps`, {
        method: 'POST',
        ca: host.caCertificate,
        headers: { Authorization: `Bearer ${cluster.token}`, 'Content-Type': 'application/json', 'Content-Length': total },
      });
      let written = 0;
      let answered = false;
      const chunk = Buffer.alloc(256 * 1024, 0x61);
      const pump = () => {
        while (!answered && written < total) {
          written += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (!answered) req.end();
      };
      req.on('response', (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), written });
          req.destroy();
        });
      });
      req.on('error', (e) => (answered ? undefined : reject(e)));
      pump();
    });
    assert.equal(r.status, 413);
    assert.equal(JSON.parse(r.body).reason, 'RequestEntityTooLarge');
    assert.ok(r.written < total / 2, `answered after ${r.written} of ${total} bytes`);
    // and without a Content-Length (chunked): the same
    const chunked = await call('POST', `/api/v1/namespaces/${NS}/configmaps`, Buffer.alloc(4 * 1024 * 1024, 0x61));
    assert.equal(chunked.status, 413);
  });

  test('__proto__, constructor and YAML merge keys stay data: Object.prototype is untouched', async () => {
    const bodies: Array<[string, string]> = [
      ['application/json', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"p1","labels":{"__proto__":{"polluted":"json"}}},"data":{"__proto__":"x","constructor":"y"}}'],
      ['application/json', '{"apiVersion":"v1","kind":"ConfigMap","__proto__":{"polluted":"top"},"metadata":{"name":"p2","annotations":{"constructor":{"prototype":{"polluted":"ctor"}}}}}'],
      ['application/yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: p3\n  labels:\n    <<: {__proto__: {polluted: merge}}\ndata:\n  <<: {constructor: {prototype: {polluted: merge2}}}\n'],
      ['application/yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: p4\n__proto__:\n  polluted: yamltop\ndata:\n  __proto__: v\n'],
      ['application/merge-patch+json', '{"metadata":{"labels":{"__proto__":{"polluted":"patch"}}}}'],
    ];
    const made = await call('POST', `/api/v1/namespaces/${NS}/configmaps`, JSON.stringify({ metadata: { name: 'target' }, data: { a: 'b' } }));
    assert.equal(made.status, 201, made.body);
    for (const [type, body] of bodies) {
      const patch = type.includes('patch');
      const r = await call(patch ? 'PATCH' : 'POST', `/api/v1/namespaces/${NS}/configmaps${patch ? '/target' : ''}?fieldValidation=Ignore`, body, type);
      assert.ok([200, 201, 400, 422].includes(r.status), `${body.slice(0, 60)}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
      if (r.status >= 400) assert.equal(JSON.parse(r.body).kind, 'Status');
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoBefore);
    // what was stored is plain data: listing and reading it works
    const list = await call('GET', `/api/v1/namespaces/${NS}/configmaps`);
    assert.equal(list.status, 200);
    assert.equal(JSON.parse(list.body).kind, 'ConfigMapList');
  });

  test('after all of it, good requests work as before', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'after', labels: { app: 'ok' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } };
    const created = await call('POST', `/api/v1/namespaces/${NS}/pods`, JSON.stringify(pod));
    assert.equal(created.status, 201, created.body);
    const got = await call('GET', `/api/v1/namespaces/${NS}/pods/after`);
    assert.equal(got.status, 200);
    assert.equal(JSON.parse(got.body).metadata.labels.app, 'ok');
    const np = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'after' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } };
    assert.equal((await call('POST', `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies`, JSON.stringify(np))).status, 201);
    assert.deepEqual(internalErrors, []);
  });
});
