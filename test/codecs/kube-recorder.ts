// A minimal HTTPS stand-in for kube-apiserver that real kubectl can create, get, apply and patch
// against, recording every request body. It exists to capture what kubectl sends (protobuf
// create bodies, apply patches) as test data, and to run kubectl end to end over this
// package's codecs: protobuf decoding, strict field checks, strategic merge patch, OpenAPI.
// It is not the embedded API server: one namespace-agnostic map of objects, legacy discovery.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDecode } from '../../server/apiserver/fields.ts';
import { openapiV3Document, openapiV3Paths } from '../../server/apiserver/openapi.ts';
import { decodeProtobufObject, ProtobufDecodeError } from '../../server/apiserver/protobuf.ts';
import { jsonMergePatch, jsonPatch, PatchError, strategicMergePatch } from '../../server/apiserver/smp.ts';
import type { ExecSession, KubeObject } from '../../server/apiserver/runtime.ts';
import { negotiateExecProtocol, serveExecStream } from '../../server/apiserver/exec-stream.ts';
import { WebSocketServer } from 'ws';

/** What a WebSocket exec/attach asks for (query of /pods/<name>/exec|attach). */
export interface StreamRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  tty: boolean;
  stdin: boolean;
  attach: boolean;
}

export interface RecorderOptions {
  /** opens the session behind `kubectl exec`/`attach`; without it upgrades are refused */
  stream?: (req: StreamRequest) => Promise<ExecSession>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  contentType: string;
  body: Buffer;
}

interface Kind {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

const KINDS: Kind[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true },
];

export interface Recorder {
  url: string;
  kubeconfig: string;
  records: RecordedRequest[];
  objects: Map<string, KubeObject>;
  /** runs the given kubectl binary against the recorder; returns exit code and output */
  kubectl(args: string[], opts?: { binary?: string; input?: string }): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

export async function startRecorder(options: RecorderOptions = {}): Promise<Recorder> {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-recorder-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const records: RecordedRequest[] = [];
  const objects = new Map<string, KubeObject>();
  let rv = 100;
  const server: Server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks));
      } catch (err) {
        send(res, 500, status(500, 'InternalError', String(err)));
      }
    });
  });

  function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const url = new URL(req.url ?? '/', 'https://x');
    const path = url.pathname;
    const contentType = String(req.headers['content-type'] ?? '');
    if (req.method !== 'GET') records.push({ method: req.method ?? '', path, query: url.search, contentType, body });
    if (path === '/version') return send(res, 200, { major: '1', minor: '32', gitVersion: 'v1.32.5', gitCommit: '0', gitTreeState: 'clean', buildDate: '2025-05-15T00:00:00Z', goVersion: 'go1.23.8', compiler: 'gc', platform: 'linux/amd64' });
    if (path === '/api') return send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:443' }] });
    if (path === '/apis') {
      const groups = [...new Set(KINDS.filter((k) => k.group).map((k) => `${k.group}/${k.version}`))].map((gv) => ({ name: gv.split('/')[0], versions: [{ groupVersion: gv, version: 'v1' }], preferredVersion: { groupVersion: gv, version: 'v1' } }));
      return send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    if (path === '/openapi/v3') return send(res, 200, { paths: openapiV3Paths() });
    if (path.startsWith('/openapi/v3/')) {
      const doc = openapiV3Document(path.slice('/openapi/v3/'.length));
      return doc ? send(res, 200, doc) : send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    }
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/(v1))(?:\/namespaces\/([^/]+))?(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path);
    if (!m) return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const group = m[2] ?? '';
    const version = m[1] ?? m[3];
    let ns: string | undefined = m[4];
    let plural: string | undefined = m[5];
    let name: string | undefined = m[6];
    if (ns !== undefined && plural === undefined) {
      // /api/v1/namespaces/<name>
      name = ns;
      plural = 'namespaces';
      ns = undefined;
    }
    if (plural === undefined) {
      const resources = KINDS.filter((k) => k.group === group).map((k) => ({ name: k.plural, singularName: k.kind.toLowerCase(), namespaced: k.namespaced, kind: k.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }));
      return send(res, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources });
    }
    const kind = KINDS.find((k) => k.group === group && k.plural === plural);
    if (!kind) return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const gvk = { group, version, kind: kind.kind };
    const key = (n: string) => `${group}/${plural}/${ns ?? ''}/${n}`;
    const strict = url.searchParams.get('fieldValidation') === 'Strict';
    const notFound = () => send(res, 404, { ...status(404, 'NotFound', `${plural}${group ? '.' + group : ''} "${name}" not found`), details: { name, group, kind: plural } });

    if (req.method === 'GET' && name) {
      const obj = objects.get(key(name));
      return obj ? send(res, 200, obj) : notFound();
    }
    if (req.method === 'GET') {
      const items = [...objects.entries()].filter(([k]) => k.startsWith(`${group}/${plural}/${ns ?? ''}/`)).map(([, v]) => v);
      return send(res, 200, { kind: `${kind.kind}List`, apiVersion: group ? `${group}/${version}` : version, metadata: { resourceVersion: String(rv) }, items });
    }
    if (req.method === 'POST' || req.method === 'PUT') {
      let obj: KubeObject;
      try {
        obj = contentType.startsWith('application/vnd.kubernetes.protobuf') ? decodeProtobufObject(body) : (JSON.parse(body.toString('utf8')) as KubeObject);
      } catch (err) {
        const reason = err instanceof ProtobufDecodeError ? 'UnsupportedMediaType' : 'BadRequest';
        return send(res, err instanceof ProtobufDecodeError ? 415 : 400, status(400, reason, (err as Error).message));
      }
      const rejected = strictCheck(gvk, obj, strict);
      if (rejected) return send(res, 400, status(400, 'BadRequest', rejected));
      const n = obj.metadata?.name ?? name;
      if (req.method === 'POST' && objects.has(key(n))) return send(res, 409, status(409, 'AlreadyExists', `${plural} "${n}" already exists`));
      obj.metadata = { ...obj.metadata, name: n, resourceVersion: String(++rv), uid: `uid-${rv}`, creationTimestamp: '2025-01-01T00:00:00Z' };
      if (kind.namespaced) obj.metadata.namespace = ns;
      objects.set(key(n), obj);
      return send(res, req.method === 'POST' ? 201 : 200, obj);
    }
    if (req.method === 'PATCH' && name) {
      const current = objects.get(key(name));
      if (!current) return notFound();
      let patched: KubeObject;
      try {
        const patch = JSON.parse(body.toString('utf8')) as object;
        if (contentType.startsWith('application/strategic-merge-patch+json')) patched = strategicMergePatch(current, patch, gvk) as KubeObject;
        else if (contentType.startsWith('application/merge-patch+json')) patched = jsonMergePatch(current, patch) as KubeObject;
        else if (contentType.startsWith('application/json-patch+json')) patched = jsonPatch(current, patch) as KubeObject;
        else return send(res, 415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`));
      } catch (err) {
        if (err instanceof PatchError) return send(res, err.code, status(err.code, err.code === 422 ? 'Invalid' : 'BadRequest', err.message));
        throw err;
      }
      const rejected = strictCheck(gvk, patched, strict);
      if (rejected) return send(res, 422, status(422, 'Invalid', rejected));
      patched.metadata.resourceVersion = String(++rv);
      objects.set(key(name), patched);
      return send(res, 200, patched);
    }
    if (req.method === 'DELETE' && name) {
      const obj = objects.get(key(name));
      if (!obj) return notFound();
      objects.delete(key(name));
      return send(res, 200, obj);
    }
    send(res, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
  }

  function strictCheck(gvk: { group: string; version: string; kind: string }, obj: unknown, strict: boolean): string | undefined {
    const findings = checkDecode(gvk, obj);
    const what = `${gvk.kind} in version "${gvk.version}" cannot be handled as a ${gvk.kind}`;
    if (findings.typeErrors.length) return `${what}: ${findings.typeErrors[0]}`;
    if (strict && findings.unknown.length) return `${what}: strict decoding error: ${findings.unknown.map((p) => `unknown field "${p}"`).join(', ')}`;
    return undefined;
  }

  const wss = new WebSocketServer({ noServer: true, handleProtocols: (set) => negotiateExecProtocol([...set].join(',')) ?? false });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'https://x');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach)$/.exec(url.pathname);
    if (!m || !options.stream) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const q = url.searchParams;
    const request: StreamRequest = { namespace: m[1], pod: m[2], container: q.get('container') ?? '', command: q.getAll('command'), tty: q.get('tty') === 'true', stdin: q.get('stdin') === 'true', attach: m[3] === 'attach' };
    wss.handleUpgrade(req, socket, head, (ws) => {
      options.stream!(request).then(
        (session) => serveExecStream(ws, session, { protocol: ws.protocol, tty: request.tty, stdin: request.stdin, mode: request.attach ? 'attach' : 'exec', command: request.command }),
        (err: Error) => {
          ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ metadata: {}, status: 'Failure', message: err.message, reason: 'InternalError', code: 500 }))]));
          ws.close(1000);
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: rec\n  cluster:\n    server: ${url}\n    insecure-skip-tls-verify: true\nusers:\n- name: rec\n  user:\n    token: recorder\ncontexts:\n- name: rec\n  context: {cluster: rec, user: rec, namespace: default}\ncurrent-context: rec\n`);
  const home = join(dir, 'home');

  return {
    url,
    kubeconfig,
    records,
    objects,
    kubectl(args, opts = {}) {
      // asynchronous: the server answering it runs on this same event loop
      return new Promise((resolve, reject) => {
        const child = spawn(opts.binary ?? 'kubectl', args, {
          env: { ...process.env, KUBECONFIG: kubeconfig, HOME: home },
          stdio: ['pipe', 'pipe', 'pipe'],
          timeout: 60_000,
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
        child.stdin.end(opts.input ?? '');
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
