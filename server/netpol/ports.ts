// NetworkPolicyPort matching: protocol, a number, a number range (endPort) or a named port that
// resolves on the destination pod's containerPorts.
import type { Mismatch, NetworkPolicyPort, PodInfo, Protocol } from './types.ts';

export interface CompiledPort {
  index: number;
  protocol: Protocol;
  /** absent: every port of the protocol */
  port?: number;
  endPort?: number;
  /** a named port, resolved per destination pod */
  name?: string;
}

/** A defaulted, validated port entry in matchable form. */
export function compilePort(p: NetworkPolicyPort, index: number): CompiledPort {
  const protocol = (p.protocol ?? 'TCP') as Protocol;
  if (p.port == null) return { index, protocol };
  if (typeof p.port === 'string') return { index, protocol, name: p.port };
  return p.endPort != null ? { index, protocol, port: p.port, endPort: p.endPort } : { index, protocol, port: p.port };
}

/** Named ports: the container port with this name AND this protocol (containerPort protocol defaults to TCP). */
export function resolveNamedPort(pod: PodInfo, name: string, protocol: Protocol): number | undefined {
  for (const cp of pod.containerPorts ?? []) {
    if (cp.name === name && (cp.protocol ?? 'TCP') === protocol) return cp.port;
  }
  return undefined;
}

/** A port entry admits the connection: same protocol, and the port equal, within [port, endPort], or the named port's number on the destination. */
export function portMatches(p: CompiledPort, port: number, protocol: Protocol, dest: PodInfo | undefined): boolean {
  if (p.protocol !== protocol) return false;
  if (p.name !== undefined) return dest !== undefined && resolveNamedPort(dest, p.name, protocol) === port;
  if (p.port === undefined) return true;
  if (p.endPort !== undefined) return port >= p.port && port <= p.endPort;
  return port === p.port;
}

/** How a port entry is written for people: `8080/TCP`, `8000-8080/TCP`, `metrics/TCP`, `any TCP port`. */
export function describePort(p: CompiledPort): string {
  if (p.name !== undefined) return `${p.name}/${p.protocol}`;
  if (p.port === undefined) return `any ${p.protocol} port`;
  if (p.endPort !== undefined) return `${p.port}-${p.endPort}/${p.protocol}`;
  return `${p.port}/${p.protocol}`;
}

/** Every condition of a port entry the connection fails (empty when it matches). */
export function portMismatches(p: CompiledPort, port: number, protocol: Protocol, dest: PodInfo | undefined, destName: string): Mismatch[] {
  const out: Mismatch[] = [];
  let portOK: boolean;
  let portMiss: Mismatch | undefined;
  if (p.name !== undefined) {
    const resolved = dest ? resolveNamedPort(dest, p.name, p.protocol) : undefined;
    portOK = resolved === port;
    if (!portOK) {
      let text: string;
      if (!dest) text = `named port ${p.name} needs a destination pod; ${destName} is not a pod`;
      else if (resolved !== undefined) text = `named port ${p.name} is ${resolved}/${p.protocol} on ${destName}; connection is to port ${port}`;
      else {
        const other = (dest.containerPorts ?? []).find((cp) => cp.name === p.name);
        text = other
          ? `named port ${p.name} on ${destName} is ${other.port}/${other.protocol ?? 'TCP'}, not ${p.protocol}`
          : `${destName} has no ${p.protocol} port named ${p.name}`;
      }
      portMiss = { kind: 'named-port', want: p.name, got: String(port), text };
    }
  } else if (p.port === undefined) {
    portOK = true;
  } else if (p.endPort !== undefined) {
    portOK = port >= p.port && port <= p.endPort;
    if (!portOK) portMiss = { kind: 'port', want: `${p.port}-${p.endPort}`, got: String(port), text: `wants ports ${p.port}-${p.endPort}; connection is to port ${port}` };
  } else {
    portOK = port === p.port;
    if (!portOK) portMiss = { kind: 'port', want: String(p.port), got: String(port), text: `wants port ${p.port}; connection is to port ${port}` };
  }
  if (p.protocol !== protocol) {
    const text = p.port !== undefined || p.name !== undefined
      ? portOK
        ? `port ${port} matched, but protocol ${protocol} ≠ ${p.protocol}`
        : `protocol ${protocol} ≠ ${p.protocol}`
      : `wants protocol ${p.protocol}; connection is ${protocol}`;
    out.push({ kind: 'protocol', want: p.protocol, got: protocol, text });
  }
  if (portMiss) out.push(portMiss);
  return out;
}
