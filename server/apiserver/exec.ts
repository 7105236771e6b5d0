// pods/<name>/exec and pods/<name>/attach: the checks the kubelet makes before streaming, then the
// WebSocket upgrade (v5.channel.k8s.io, kubectl 1.30+, client-node) or SPDY/3.1 (older kubectl).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { ClusterContext } from './context.ts';
import { badRequest } from './errors.ts';
import { CHANNEL_ERROR, negotiateExecProtocol, PROTOCOL_V4_BASE64, serveExecStream } from './exec-stream.ts';
import { isTrue } from './request.ts';
import { mustResource } from './resources.ts';
import type { ContainerRef, ExecRequest } from './runtime.ts';

type Json = any;

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4 * 1024 * 1024 });

function parseExecQuery(query: URLSearchParams, mode: 'exec' | 'attach'): ExecRequest & { container: string } {
  const req: ExecRequest & { container: string } = {
    command: query.getAll('command'),
    container: query.get('container') ?? '',
    stdin: isTrue(query.get('stdin')),
    stdout: isTrue(query.get('stdout')),
    stderr: isTrue(query.get('stderr')),
    tty: isTrue(query.get('tty')),
  };
  if (mode === 'exec' && req.command.length === 0) throw badRequest('you must specify at least 1 command');
  if (!req.stdin && !req.stdout && !req.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  if (req.tty) req.stderr = false;
  return req;
}

/** The container an exec/attach targets, with the apiserver's and kubelet's refusals. */
function targetContainer(pod: Json, requested: string): string {
  const name = pod.metadata.name;
  const containers: Json[] = pod.spec?.containers ?? [];
  let container = requested;
  if (!container) {
    if (containers.length !== 1) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`);
    container = containers[0].name;
  }
  if (!containers.some((c) => c.name === container) && !(pod.spec?.initContainers ?? []).some((c: Json) => c.name === container)) {
    throw badRequest(`container ${container} is not valid for pod ${name}`);
  }
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') throw badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  const status = (pod.status?.containerStatuses ?? []).find((s: Json) => s.name === container);
  if (!status?.state?.running) throw badRequest(`container not found ("${container}")`);
  return container;
}

/**
 * Serve an exec/attach upgrade. `socket` belongs to this call from here on: it is either upgraded
 * or answered with a Status and closed.
 */
export async function serveExecUpgrade(ctx: ClusterContext, req: IncomingMessage, socket: Duplex, head: Buffer, mode: 'exec' | 'attach', namespace: string, podName: string, query: URLSearchParams): Promise<void> {
  // the checks come first for every transport, so a client falling back to SPDY still learns why
  const pod = ctx.objects.get(mustResource('pods'), namespace, podName) as Json;
  const request = parseExecQuery(query, mode);
  const container = targetContainer(pod, request.container);
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  const ref: ContainerRef = { namespace, pod: podName, container };
  const { container: _container, ...execRequest } = request;
  if (upgrade.startsWith('spdy/')) {
    // kubectl before 1.30 (or with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false)
    if (upgrade !== 'spdy/3.1') throw badRequest(`unable to upgrade: ${String(req.headers.upgrade)} is not supported (want SPDY/3.1)`);
    const { serveSpdyExec } = await import('./spdy-exec.ts');
    await serveSpdyExec(ctx, req, socket, head, { mode, ref, request: execRequest });
    return;
  }
  if (upgrade !== 'websocket' || req.method !== 'GET') {
    throw badRequest(`${mode} needs a WebSocket (GET, v5.channel.k8s.io) or SPDY/3.1 upgrade`);
  }
  const protocol = negotiateExecProtocol(req.headers['sec-websocket-protocol'] as string | undefined);
  if (!protocol) throw badRequest('unable to upgrade connection: no supported stream protocol was offered (want v5.channel.k8s.io or v4.channel.k8s.io)');
  // echo the negotiated subprotocol (kubectl treats a missing echo as an upgrade failure);
  // handleUpgrade reads it synchronously, so setting it per request is safe
  wss.options.handleProtocols = () => protocol;
  wss.handleUpgrade(req, socket, head, (ws) => {
    const onClose = () => ws.close(1001, 'cluster stopped');
    ctx.closed.addEventListener('abort', onClose, { once: true });
    ctx
      .openSession(mode, ref, execRequest)
      .then(
        (session) => {
          if (ws.readyState !== ws.OPEN) {
            if (mode === 'exec') session.kill();
            else session.detach?.();
            return;
          }
          return serveExecStream(ws, session, { protocol, tty: request.tty, stdin: request.stdin, mode, command: request.command });
        },
        (err: unknown) => {
          // as the kubelet does when the runtime cannot start the session: a Failure on the status channel
          const message = err instanceof Error ? err.message : String(err);
          if (ws.readyState === ws.OPEN) {
            const status = Buffer.from(JSON.stringify({ metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 }));
            if (protocol === PROTOCOL_V4_BASE64) ws.send(`${CHANNEL_ERROR}${status.toString('base64')}`);
            else ws.send(Buffer.concat([Buffer.from([CHANNEL_ERROR]), status]), { binary: true });
            ws.close(1000);
          }
        },
      )
      .catch(() => {
        // the stream reports its own failures to the client; nothing left to do here
      })
      .finally(() => ctx.closed.removeEventListener('abort', onClose));
  });
}
