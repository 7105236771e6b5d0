// The behaviour of the listeners a workload declares: HTTP bodies (shared by the netns plane's
// real servers and by the sim plane's curl/wget), plain TCP accept, UDP echo. One server process
// owns all of these sockets; each was created inside its pod's network namespace.
import http from 'node:http';
import net from 'node:net';
import dgram from 'node:dgram';
import type { HttpFlavour } from './workload.ts';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ListenerOwner {
  pod: string;
  namespace: string;
}

export const NGINX_VERSION = '1.27.3';

const NGINX_WELCOME = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`;

const NGINX_404 = `<html>
<head><title>404 Not Found</title></head>
<body>
<center><h1>404 Not Found</h1></center>
<hr><center>nginx/${NGINX_VERSION}</center>
</body>
</html>
`;

function json(status: number, value: unknown): HttpAnswer {
  return withLength({ status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value) + '\n' });
}

function withLength(a: HttpAnswer): HttpAnswer {
  return { ...a, headers: { ...a.headers, 'Content-Length': String(Buffer.byteLength(a.body)) } };
}

function metricsText(service: string, owner: ListenerOwner): string {
  const labels = `service="${service}",pod="${owner.pod}",namespace="${owner.namespace}"`;
  return [
    '# HELP up Whether the target is up.',
    '# TYPE up gauge',
    `up{${labels}} 1`,
    '# HELP http_requests_total Requests served, by status code.',
    '# TYPE http_requests_total counter',
    `http_requests_total{${labels},code="200"} 1`,
    '# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.',
    '# TYPE process_start_time_seconds gauge',
    `process_start_time_seconds{${labels}} 0`,
    '',
  ].join('\n');
}

/** What a workload answers to one HTTP request (with Content-Length, as real servers send it). */
export function httpAnswer(flavour: HttpFlavour, method: string, path: string, owner: ListenerOwner): HttpAnswer {
  const a = answer(flavour, method, path, owner);
  return a.headers['Content-Length'] ? a : withLength(a);
}

function answer(flavour: HttpFlavour, method: string, path: string, owner: ListenerOwner): HttpAnswer {
  const p = path.split('?')[0] || '/';
  switch (flavour.kind) {
    case 'nginx':
      if (p === '/' || p === '/index.html') return { status: 200, headers: { 'Content-Type': 'text/html', Server: `nginx/${NGINX_VERSION}` }, body: NGINX_WELCOME };
      return { status: 404, headers: { 'Content-Type': 'text/html', Server: `nginx/${NGINX_VERSION}` }, body: NGINX_404 };
    case 'echo':
      return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-App-Name': 'http-echo' }, body: `${flavour.text}\n` };
    case 'metrics':
      if (p === '/health' || p === '/healthz') return json(200, { status: 'healthy' });
      return { status: 200, headers: { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }, body: metricsText(flavour.service, owner) };
    case 'coredns-health':
      return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'OK' };
    case 'app':
      if (p === '/health' || p === '/healthz' || p === '/ready' || p === '/readyz' || p === '/livez') return json(200, { status: 'healthy' });
      return json(200, { service: flavour.service, pod: owner.pod, namespace: owner.namespace, method, path: p });
  }
}

/** Serve HTTP on a listening socket fd. */
export function serveHttp(fd: number, flavour: HttpFlavour, owner: ListenerOwner): net.Server {
  const server = http.createServer((req, res) => {
    const a = httpAnswer(flavour, req.method ?? 'GET', req.url ?? '/', owner);
    res.writeHead(a.status, a.headers);
    res.end(req.method === 'HEAD' ? undefined : a.body);
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.on('clientError', (_err, sock) => sock.destroy());
  server.listen({ fd });
  return server;
}

/** Accept and hold TCP connections (idle ones are closed after a few minutes). */
export function serveTcpAccept(fd: number): net.Server {
  const server = net.createServer((sock) => {
    sock.setTimeout(300_000, () => sock.destroy());
    sock.on('error', () => {});
    sock.resume();
  });
  server.listen({ fd });
  return server;
}

/** Echo every datagram back to its sender. */
export function serveUdpEcho(fd: number): Promise<dgram.Socket> {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
  sock.on('error', () => {});
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ fd }, () => {
      sock.off('error', reject);
      resolve(sock);
    });
  });
}
