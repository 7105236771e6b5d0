// A NetworkPolicy as the engine holds it: validated like kube-apiserver, defaulted, and compiled
// into selectors, peers and ports that can be matched without re-reading the object.
import type { FieldError, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from './types.ts';
import { formatFieldError } from './fielderror.ts';
import { validateNetworkPolicy } from './validate.ts';
import { defaultNetworkPolicy } from './defaults.ts';
import { compileSelector, type CompiledSelector } from './selector.ts';
import { compilePeer, type CompiledPeer } from './peers.ts';
import { compilePort, type CompiledPort } from './ports.ts';

export type Direction = 'ingress' | 'egress';

export interface CompiledRule {
  index: number;
  /** null: the rule lists no peers (from/to missing or empty), so every source/destination matches */
  peers: CompiledPeer[] | null;
  /** null: the rule lists no ports, so every port and protocol matches */
  ports: CompiledPort[] | null;
}

export interface CompiledPolicy {
  /** "namespace/name" */
  key: string;
  name: string;
  namespace: string;
  /** position in the engine's input, the tie-breaker of every "first" in explanations */
  order: number;
  /** the defaulted object */
  policy: NetworkPolicy;
  podSelector: CompiledSelector;
  /** policyTypes (after defaulting) name this direction: the policy isolates the pods it selects */
  affects: Record<Direction, boolean>;
  rules: Record<Direction, CompiledRule[]>;
}

/** A policy the API server would have rejected; carries its field errors. */
export class InvalidPolicyError extends Error {
  constructor(
    readonly policy: string,
    readonly errors: FieldError[],
  ) {
    super(`NetworkPolicy "${policy}" is invalid: ${errors.length === 1 ? formatFieldError(errors[0]) : `[${errors.map(formatFieldError).join(', ')}]`}`);
    this.name = 'InvalidPolicyError';
  }
}

function compileRule(index: number, peers: NetworkPolicyPeer[] | undefined, ports: NetworkPolicyPort[] | undefined, namespace: string): CompiledRule {
  return {
    index,
    peers: peers && peers.length > 0 ? peers.map((p, i) => compilePeer(p, i, namespace)) : null,
    ports: ports && ports.length > 0 ? ports.map((p, i) => compilePort(p, i)) : null,
  };
}

/** Validates (throwing InvalidPolicyError), defaults and compiles one policy. */
export function compilePolicy(raw: NetworkPolicy, order: number): CompiledPolicy {
  const errors = validateNetworkPolicy(raw);
  const name = raw.metadata?.name ?? '';
  const namespace = raw.metadata?.namespace ?? '';
  if (errors.length > 0) throw new InvalidPolicyError(`${namespace}/${name}`, errors);
  const policy = defaultNetworkPolicy(raw);
  const types = policy.spec.policyTypes ?? [];
  return {
    key: `${namespace}/${name}`,
    name,
    namespace,
    order,
    policy,
    podSelector: compileSelector(policy.spec.podSelector ?? {}),
    affects: { ingress: types.includes('Ingress'), egress: types.includes('Egress') },
    rules: {
      ingress: (policy.spec.ingress ?? []).map((r, i) => compileRule(i, r.from, r.ports, namespace)),
      egress: (policy.spec.egress ?? []).map((r, i) => compileRule(i, r.to, r.ports, namespace)),
    },
  };
}

/** `from` for ingress rules, `to` for egress rules. */
export function peerField(direction: Direction): 'from' | 'to' {
  return direction === 'ingress' ? 'from' : 'to';
}
