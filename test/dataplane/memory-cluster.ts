// A small in-memory cluster store for data-plane tests: the same ClusterStateView the API server
// gives a runtime, with create/update/delete that notify subscribers, and pod lifecycle driven
// through the runtime (startPod on create, stopPod on delete) the way the API server drives it.
import type { ClusterNetworkOptions, ClusterRuntime, ClusterStateView, ContainerRef, KubeObject, ObjectEvent, PodRuntime } from '../../server/apiserver/runtime.ts';

export const NETWORK: ClusterNetworkOptions = {
  podCIDR: '10.244.0.0/16',
  serviceCIDR: '10.96.0.0/12',
  dnsServiceIP: '10.96.0.10',
  clusterDomain: 'cluster.local',
  nodeName: 'kubelab-node',
  externalHosts: [],
};

export class MemoryCluster implements ClusterStateView {
  private readonly objects = new Map<string, KubeObject>();
  private readonly listeners = new Set<(e: ObjectEvent) => void>();
  runtime: ClusterRuntime | undefined;
  readonly exits: Array<{ ref: ContainerRef; exitCode: number }> = [];
  readonly logs: Array<{ ref: ContainerRef; line: string }> = [];
  private nextServiceIP = 20;

  constructor(readonly clusterId: string) {}

  private key(resource: string, namespace: string | undefined, name: string): string {
    return `${resource}/${namespace ?? ''}/${name}`;
  }

  list(resource: string, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const [k, o] of this.objects) if (k.startsWith(`${resource}/`) && (namespace === undefined || o.metadata.namespace === namespace)) out.push(o);
    return out;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(this.key(resource, namespace, name));
  }

  subscribe(listener: (event: ObjectEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(type: ObjectEvent['type'], resource: string, object: KubeObject): void {
    for (const l of this.listeners) l({ type, resource, object });
  }

  async attach(runtime: PodRuntime, network: ClusterNetworkOptions = NETWORK): Promise<ClusterRuntime> {
    this.runtime = await runtime.attach(this, network, {
      containerExited: (ref, exitCode) => this.exits.push({ ref, exitCode }),
      log: (ref, line) => this.logs.push({ ref, line }),
    });
    return this.runtime;
  }

  /** Create or replace an object; pods are started through the runtime. */
  async apply(resource: string, object: KubeObject): Promise<KubeObject> {
    const ns = resource === 'namespaces' ? undefined : (object.metadata.namespace ?? 'default');
    const o: KubeObject = structuredClone({ ...object, metadata: { ...object.metadata, ...(ns ? { namespace: ns } : {}) } });
    if (resource === 'namespaces') o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name };
    if (resource === 'services' && !o.spec?.clusterIP) o.spec = { ...(o.spec ?? {}), clusterIP: `10.96.0.${this.nextServiceIP++}` };
    const k = this.key(resource, ns, o.metadata.name);
    const existed = this.objects.has(k);
    this.objects.set(k, o);
    this.emit(existed ? 'MODIFIED' : 'ADDED', resource, o);
    if (resource === 'pods' && !existed && this.runtime) {
      const started = await this.runtime.startPod(o);
      // Ready as the kubelet reports it: containers running, and every readiness gate's condition True
      const gates = ((o.spec?.readinessGates ?? []) as Array<{ conditionType: string }>).map((g) => g.conditionType);
      o.status = { phase: 'Running', podIP: started.podIP, hostIP: started.hostIP, conditions: [{ type: 'Ready', status: gates.length === 0 ? 'True' : 'False' }] };
      this.emit('MODIFIED', resource, o);
    }
    return o;
  }

  async remove(resource: string, namespace: string | undefined, name: string): Promise<void> {
    const k = this.key(resource, namespace, name);
    const o = this.objects.get(k);
    if (!o) return;
    if (resource === 'pods' && this.runtime) await this.runtime.stopPod(namespace ?? 'default', name);
    this.objects.delete(k);
    this.emit('DELETED', resource, o);
  }

  /** Set a pod's Ready condition (what a readiness probe or a readiness gate would change). */
  setReady(namespace: string, name: string, ready: boolean): void {
    const k = this.key('pods', namespace, name);
    const o = this.objects.get(k);
    if (!o) throw new Error(`no pod ${namespace}/${name}`);
    const next: KubeObject = structuredClone(o);
    const others = ((next.status?.conditions ?? []) as Array<{ type: string }>).filter((c) => c.type !== 'Ready');
    next.status = { ...(next.status ?? {}), conditions: [...others, { type: 'Ready', status: ready ? 'True' : 'False' }] };
    this.objects.set(k, next);
    this.emit('MODIFIED', 'pods', next);
  }

  namespace(name: string, labels: Record<string, string> = {}): Promise<KubeObject> {
    return this.apply('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  }

  pod(namespace: string, name: string, labels: Record<string, string>, containers: Array<Record<string, unknown>>): Promise<KubeObject> {
    return this.apply('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { namespace, name, labels, uid: `${namespace}-${name}` }, spec: { containers } });
  }

  /** The kube-dns service and one CoreDNS pod, as the API server seeds them. */
  async seedDns(): Promise<void> {
    await this.namespace('kube-system');
    await this.apply('services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: 'kube-system', name: 'kube-dns', labels: { 'k8s-app': 'kube-dns' } },
      spec: {
        clusterIP: NETWORK.dnsServiceIP,
        selector: { 'k8s-app': 'kube-dns' },
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
        ],
      },
    });
    await this.pod('kube-system', 'coredns-0', { 'k8s-app': 'kube-dns' }, [{ name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.11.3' }]);
  }
}
