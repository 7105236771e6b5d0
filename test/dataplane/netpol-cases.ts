// The public NetworkPolicy truth tables replayed on a live embedded cluster: namespaces, pods and
// policies are created through the Kubernetes API, every probe is an `nc` run in its source pod,
// and the observed outcome is compared with the engine's verdict (allow → connected, deny → timeout).
import { readFileSync } from 'node:fs';
import { PolicyEngine, type NetworkPolicy } from '../../server/netpol/index.ts';
import { readCase, type PolicyCase, type Probe } from '../../server/netpol/cases.ts';
import { ApiCluster, namespace, pod, policy } from './harness.ts';
import type { PodRuntime } from '../../server/apiserver/runtime.ts';
import type { ApiHost } from '../../server/apiserver/index.ts';

export const PUBLIC_CASES = '/work/shared/netpol-cases/public.json';
/** What the e2e suite's agnhost pods are; any image that only declares ports serves them. */
const SERVER_IMAGE = 'registry.k8s.io/e2e-test-images/agnhost:2.52';

export type Observed = 'connected' | 'refused' | 'timeout' | 'error';

export interface CaseRun {
  name: string;
  mismatches: string[];
  skipped: string[];
  probes: number;
}

export function loadCases(file = PUBLIC_CASES): PolicyCase[] {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Array<Parameters<typeof readCase>[0]>;
  return raw.map((c) => readCase(c));
}

/** ipBlocks written against the case's pod addresses, moved to the addresses the pods really got. */
function remapPolicy(p: NetworkPolicy, addr: Map<string, string>): NetworkPolicy {
  const copy = structuredClone(p);
  const fix = (cidr: string) => {
    const [ip, len] = cidr.split('/');
    return len === '32' && addr.has(ip) ? `${addr.get(ip)}/32` : cidr;
  };
  for (const rules of [copy.spec.ingress ?? [], copy.spec.egress ?? []]) {
    for (const r of rules) {
      const peers = 'from' in r ? r.from : 'to' in r ? r.to : undefined;
      for (const peer of peers ?? []) {
        if (peer.ipBlock) peer.ipBlock = { cidr: fix(peer.ipBlock.cidr), ...(peer.ipBlock.except ? { except: peer.ipBlock.except.map(fix) } : {}) };
      }
    }
  }
  return copy;
}

function endpointKey(e: Probe['from']): string {
  return 'pod' in e ? e.pod : e.ip;
}

/** Classify one line of `nc -vz` (TCP) or of an echoed datagram (UDP). */
export function classify(protocol: string, code: number, text: string): Observed {
  if (protocol === 'UDP') return text.includes('kubelab') ? 'connected' : 'timeout';
  if (/succeeded!/.test(text) && code === 0) return 'connected';
  if (/Connection refused/.test(text)) return 'refused';
  if (/timed out/.test(text)) return 'timeout';
  return 'error';
}

export async function runCase(runtime: PodRuntime, c: PolicyCase, index: number, host?: ApiHost): Promise<CaseRun> {
  const name = c.name ?? `case ${index}`;
  const run: CaseRun = { name, mismatches: [], skipped: [], probes: 0 };
  const api = await ApiCluster.start(runtime, [], host);
  try {
    for (const ns of c.cluster.namespaces ?? []) await api.apply(namespace(ns.name, ns.labels));
    const pods = c.cluster.pods ?? [];
    await Promise.all(
      pods.map((p) => {
        const ports = (p.containerPorts ?? []).map((cp) => ({ ...(cp.name ? { name: cp.name } : {}), containerPort: cp.port, protocol: cp.protocol ?? 'TCP' }));
        return api.apply(pod(p.namespace, p.name, p.labels, { image: SERVER_IMAGE, ports }));
      }),
    );
    const ips = await api.waitRunning(pods.map((p) => ({ namespace: p.namespace, name: p.name })));
    const byCaseIP = new Map(pods.map((p) => [p.ip, ips.get(`${p.namespace}/${p.name}`)!]));
    for (const p of c.policies) await api.apply({ ...(remapPolicy(p, byCaseIP) as unknown as Parameters<typeof api.apply>[0]), apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' });
    await api.settle();
    const engine = new PolicyEngine(c.cluster, c.policies);
    const bySource = new Map<string, Array<{ id: number; probe: Probe; expect: Observed }>>();
    c.probes.forEach((probe, id) => {
      const label = `${endpointKey(probe.from)} → ${endpointKey(probe.to)} ${probe.port}/${probe.protocol}`;
      if (probe.protocol === 'SCTP') return run.skipped.push(`${label}: SCTP (no sctp kernel module, and nc cannot speak it)`);
      if (!('pod' in probe.from) || !('pod' in probe.to)) return run.skipped.push(`${label}: only pod-to-pod probes run here`);
      const verdict = engine.evaluate({ from: probe.from, to: probe.to, port: probe.port, protocol: probe.protocol }).verdict;
      const list = bySource.get(probe.from.pod) ?? [];
      list.push({ id, probe, expect: verdict === 'allow' ? 'connected' : 'timeout' });
      bySource.set(probe.from.pod, list);
    });
    await Promise.all(
      [...bySource].map(async ([source, probes]) => {
        const lines = probes.map(({ id, probe }) => {
          const ip = ips.get((probe.to as { pod: string }).pod)!;
          return probe.protocol === 'UDP' ? `u ${id} ${ip} ${probe.port} &` : `p ${id} ${ip} ${probe.port} &`;
        });
        const script = [
          'p() { r=$(nc -vz -w 1 "$2" "$3" 2>&1); echo "$1|$?|$r"; }',
          // a datagram and its echo: allow a busy machine (cases run side by side) four seconds for the reply
          'u() { r=$(echo kubelab | nc -u -w 4 "$2" "$3" 2>&1); echo "$1|$?|$r"; }',
          ...lines,
          'wait',
        ].join('\n');
        const [ns, podName] = source.split('/');
        const result = await api.exec({ namespace: ns, pod: podName, container: 'main' }, ['sh', '-c', script]);
        const seen = new Map<number, Observed>();
        for (const line of result.stdout.split('\n')) {
          const m = /^(\d+)\|(\d+)\|(.*)$/.exec(line);
          if (!m) continue;
          const probe = c.probes[Number(m[1])];
          seen.set(Number(m[1]), classify(probe.protocol, Number(m[2]), m[3]));
        }
        for (const { id, probe, expect } of probes) {
          run.probes++;
          const got = seen.get(id) ?? 'error';
          if (got !== expect) {
            const why = got === 'error' && result.stderr ? ` (${result.stderr.trim().split('\n')[0]})` : '';
            run.mismatches.push(`${endpointKey(probe.from)} → ${endpointKey(probe.to)} ${probe.port}/${probe.protocol}: engine says ${expect === 'connected' ? 'allow' : 'deny'} (expected ${expect}), observed ${got}${why}`);
          }
        }
      }),
    );
  } finally {
    await api.dispose();
  }
  return run;
}

export { policy };
