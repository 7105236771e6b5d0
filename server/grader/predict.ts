// What the learner's policies say about a probe, by the engine, against a snapshot of their
// cluster: the verdict, the outcome an enforcing network would show, and the explanation. A
// Service is explained against the pods behind it and the port it forwards to.
import type { JsonValue, PolicyExplanation, ProbeOutcome } from '../../shared/lab.ts';
import { PolicyEngine, resolveNamedPort, type Decision, type Endpoint, type PodInfo, type Protocol, type RuleRef } from '../netpol/index.ts';
import { describeRef } from '../netpol/explain.ts';
import type { ClusterView, ServiceInfo } from './view.ts';

export interface Prediction {
  /** what the policies decide, when they decide it */
  verdict?: 'allow' | 'deny';
  /** what a network enforcing them would show */
  outcome?: ProbeOutcome;
  explanation?: PolicyExplanation;
  /** for an allowed connection, the rules that let it through (least-privilege messages) */
  allowedBy: string[];
  /** something other than a policy that decides the outcome (a Service without endpoints, ...) */
  note?: string;
}

const none: Prediction = { allowedBy: [] };

export class Predictor {
  private engine: PolicyEngine | undefined;
  private engineError: string | undefined;
  private readonly podsByIP: Map<string, PodInfo>;
  private readonly podsByKey: Map<string, PodInfo>;

  constructor(private readonly view: ClusterView) {
    this.podsByIP = new Map(view.snapshot.pods.map((p) => [p.ip, p]));
    this.podsByKey = new Map(view.snapshot.pods.map((p) => [`${p.namespace}/${p.name}`, p]));
    try {
      this.engine = new PolicyEngine(view.snapshot, view.policies);
    } catch (err) {
      // a cluster can hold what the engine refuses (kind accepts more than we model): explain nothing rather than guess
      this.engineError = err instanceof Error ? err.message : String(err);
    }
  }

  /** Why predictions are missing, when the engine could not take the cluster. */
  get unavailable(): string | undefined {
    return this.engineError;
  }

  /** A connection from a pod to an address (a pod, a Service's ClusterIP, or outside the cluster). */
  connection(source: string, targetIP: string, port: number, protocol: Protocol): Prediction {
    if (!this.engine || !this.podsByKey.has(source)) return none;
    const service = this.view.services.find((s) => s.clusterIP === targetIP);
    if (service) return this.toService(source, service, port, protocol);
    const pod = this.podsByIP.get(targetIP);
    const to: Endpoint = pod ? { pod: `${pod.namespace}/${pod.name}` } : { ip: targetIP };
    return this.decide(this.engine.evaluate({ from: { pod: source }, to, port, protocol }));
  }

  /** A DNS lookup: the source's egress to the cluster DNS pods on UDP 53. */
  lookup(source: string): Prediction {
    if (!this.engine || !this.podsByKey.has(source)) return none;
    const dnsService = this.view.services.find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns');
    if (dnsService?.clusterIP) return this.connection(source, dnsService.clusterIP, 53, 'UDP');
    const dnsPods = this.view.snapshot.pods.filter((p) => p.namespace === 'kube-system' && p.labels['k8s-app'] === 'kube-dns');
    if (dnsPods.length === 0) return none;
    return this.decide(this.engine.evaluate({ from: { pod: source }, to: { pod: `${dnsPods[0].namespace}/${dnsPods[0].name}` }, port: 53, protocol: 'UDP' }));
  }

  private toService(source: string, service: ServiceInfo, port: number, protocol: Protocol): Prediction {
    const sp = service.ports.find((p) => p.port === port && p.protocol === protocol);
    if (!sp) {
      const offered = service.ports.map((p) => `${p.port}/${p.protocol}`).join(', ') || 'none';
      return { outcome: 'timeout', allowedBy: [], note: `Service ${service.namespace}/${service.name} has no port ${port}/${protocol} (it offers ${offered}), so nothing forwards the connection` };
    }
    const members = service.endpoints.map((k) => this.podsByKey.get(k)).filter((p): p is PodInfo => p !== undefined);
    if (members.length === 0) {
      return { outcome: 'refused', allowedBy: [], note: `Service ${service.namespace}/${service.name} has no ready endpoints (no running pod matches its selector), so the connection is refused` };
    }
    const decisions: Decision[] = [];
    for (const pod of members) {
      const targetPort = typeof sp.targetPort === 'number' ? sp.targetPort : resolveNamedPort(pod, sp.targetPort, protocol);
      if (targetPort === undefined) continue;
      decisions.push(this.engine!.evaluate({ from: { pod: source }, to: { pod: `${pod.namespace}/${pod.name}` }, port: targetPort, protocol }));
    }
    if (decisions.length === 0) {
      return { outcome: 'refused', allowedBy: [], note: `no pod behind Service ${service.namespace}/${service.name} has a port named ${String(sp.targetPort)}` };
    }
    const allowed = decisions.filter((d) => d.verdict === 'allow');
    if (allowed.length === decisions.length) return this.decide(decisions[0]);
    if (allowed.length === 0) return this.decide(decisions[0]);
    // the Service picks one pod per connection: the outcome depends on which
    const p = this.decide(decisions.find((d) => d.verdict === 'deny')!);
    return { ...p, verdict: undefined, outcome: undefined, note: `${allowed.length} of ${decisions.length} pods behind Service ${service.namespace}/${service.name} accept this connection, so it depends on which one the Service picks` };
  }

  private decide(d: Decision): Prediction {
    const allowedBy: string[] = [];
    if (d.verdict === 'allow') {
      for (const side of [d.explanation.egress, d.explanation.ingress]) {
        if (side.isolated && side.allowedBy) allowedBy.push(ruleName(side.allowedBy, side.direction));
      }
    }
    return {
      verdict: d.verdict,
      outcome: d.verdict === 'allow' ? 'connected' : 'timeout',
      explanation: { verdict: d.verdict, summary: d.explanation.summary, detail: d.explanation as unknown as JsonValue },
      allowedBy,
    };
  }
}

function ruleName(ref: RuleRef, direction: 'ingress' | 'egress'): string {
  const slash = ref.policy.indexOf('/');
  return `${ref.policy.slice(0, slash)}/${describeRef(ref.policy.slice(slash + 1), direction, ref)}`;
}
