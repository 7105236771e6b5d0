// GET pods/<name>/log: container output as text/plain, with the kubelet's errors for containers
// that are not running yet, tailLines/sinceSeconds/timestamps, and follow.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterContext } from './context.ts';
import { badRequest } from './errors.ts';
import { mustResource } from './resources.ts';
import { isTrue } from './request.ts';

type Json = any;

function intParam(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`${name}: Invalid value: "${v}": must be an integer`);
  return n;
}

export function serveLog(ctx: ClusterContext, req: IncomingMessage, res: ServerResponse, namespace: string, name: string, query: URLSearchParams): void {
  const pod = ctx.objects.get(mustResource('pods'), namespace, name) as Json;
  const containers: string[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].map((c: Json) => c.name);
  let container = query.get('container') ?? '';
  if (!container) {
    if ((pod.spec?.containers ?? []).length !== 1) {
      throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${(pod.spec?.containers ?? []).map((c: Json) => c.name).join(' ')}]`);
    }
    container = pod.spec.containers[0].name;
  }
  if (!containers.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
  const statuses: Json[] = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  const status = statuses.find((s) => s.name === container);
  const waiting = !status ? 'ContainerCreating' : status.state?.waiting && !status.lastState?.terminated ? status.state.waiting.reason || 'ContainerCreating' : undefined;
  if (waiting) throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${waiting}`);
  if (isTrue(query.get('previous')) && !(status?.restartCount > 0)) {
    throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
  }
  const timestamps = isTrue(query.get('timestamps'));
  const previous = isTrue(query.get('previous'));
  const text = ctx.logs.read(namespace, name, container, {
    previous,
    now: ctx.now(),
    tailLines: intParam(query, 'tailLines'),
    sinceSeconds: intParam(query, 'sinceSeconds'),
    limitBytes: intParam(query, 'limitBytes'),
    timestamps,
  });
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
  const running = Boolean(status?.state?.running);
  if (!isTrue(query.get('follow')) || !running || previous) {
    res.end(text);
    return;
  }
  res.write(text);
  res.flushHeaders();
  let stop = () => {};
  const end = () => {
    stop();
    ctx.closed.removeEventListener('abort', end);
    res.end();
  };
  stop = ctx.logs.follow(namespace, name, container, timestamps, (line) => res.write(line), end);
  res.on('close', end);
  ctx.closed.addEventListener('abort', end);
}
