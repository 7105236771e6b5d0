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

/** Counts the conditions of a port entry the connection fails (0 when it matches), describing them into `out` when given. */
export function portMismatches(p: CompiledPort, port: number, protocol: Protocol, dest: PodInfo | undefined, destName: string, out?: Mismatch[]): number {
  let portOK = true;
  let describePort: (() => Mismatch) | undefined;
  if (p.name !== undefined) {
    const name = p.name;
    const resolved = dest ? resolveNamedPort(dest, name, p.protocol) : undefined;
    portOK = resolved === port;
    describePort = () => {
      let text: string;
      if (!dest) text = `named port ${name} needs a destination pod; ${destName} is not a pod`;
      else if (resolved !== undefined) text = `named port ${name} is ${resolved}/${p.protocol} on ${destName}; connection is to port ${port}`;
      else {
        const other = (dest.containerPorts ?? []).find((cp) => cp.name === name);
        text = other ? `named port ${name} on ${destName} is ${other.port}/${other.protocol ?? 'TCP'}, not ${p.protocol}` : `${destName} has no ${p.protocol} port named ${name}`;
      }
      return { kind: 'named-port', want: name, got: String(port), text };
    };
  } else if (p.port !== undefined && p.endPort !== undefined) {
    const [lo, hi] = [p.port, p.endPort];
    portOK = port >= lo && port <= hi;
    describePort = () => ({ kind: 'port', want: `${lo}-${hi}`, got: String(port), text: `wants ports ${lo}-${hi}; connection is to port ${port}` });
  } else if (p.port !== undefined) {
    const want = p.port;
    portOK = port === want;
    describePort = () => ({ kind: 'port', want: String(want), got: String(port), text: `wants port ${want}; connection is to port ${port}` });
  }
  const protocolOK = p.protocol === protocol;
  if (out && !protocolOK) {
    const text =
      p.port !== undefined || p.name !== undefined
        ? portOK
          ? `port ${port} matched, but protocol ${protocol} ≠ ${p.protocol}`
          : `protocol ${protocol} ≠ ${p.protocol}`
        : `wants protocol ${p.protocol}; connection is ${protocol}`;
    out.push({ kind: 'protocol', want: p.protocol, got: protocol, text });
  }
  if (out && !portOK && describePort) out.push(describePort());
  return (protocolOK ? 0 : 1) + (portOK ? 0 : 1);
}
