// The namespace controllers: every active namespace gets its `default` ServiceAccount and the
// `kube-root-ca.crt` ConfigMap; a namespace being deleted is emptied (pods terminate gracefully)
// and then removed, so it shows as Terminating for a short while like on a real cluster.
import { mustResource, RESOURCES } from '../resources.ts';
import type { Controller, ControllerHost } from './host.ts';
import { WorkQueue } from './queue.ts';

export class NamespaceController implements Controller {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly host: ControllerHost,
    private readonly caCertificate: string,
  ) {
    this.queue = new WorkQueue(
      (name) => this.sync(name),
      (k, e) => host.onError('namespace', k, e),
    );
    this.unsubscribe = host.store.subscribe((e) => {
      if (e.resource === 'namespaces') this.queue.add(e.object.metadata.name);
      else if (e.object.metadata.namespace && (e.type === 'DELETED' || e.resource === 'serviceaccounts' || e.resource === 'configmaps')) {
        this.queue.add(e.object.metadata.namespace);
      }
    });
    for (const ns of host.store.list('namespaces')) this.queue.add(ns.metadata.name);
  }

  get busy(): boolean {
    return this.queue.busy;
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  dispose(): void {
    this.unsubscribe();
    this.queue.dispose();
  }

  private sync(name: string): void {
    const ns = this.host.store.get('namespaces', undefined, name);
    if (!ns) return;
    if (ns.metadata.deletionTimestamp) {
      this.empty(name);
      return;
    }
    if (!this.host.store.get('serviceaccounts', name, 'default')) {
      this.host.objects.create(mustResource('serviceaccounts'), name, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } });
    }
    if (!this.host.store.get('configmaps', name, 'kube-root-ca.crt')) {
      this.host.objects.create(mustResource('configmaps'), name, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'kube-root-ca.crt', namespace: name, annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' } },
        data: { 'ca.crt': this.caCertificate },
      });
    }
  }

  private empty(name: string): void {
    let remaining = 0;
    for (const r of RESOURCES) {
      if (!r.namespaced) continue;
      for (const o of this.host.store.list(r.plural, name)) {
        remaining++;
        if (r.plural === 'events') {
          this.host.store.delete('events', name, o.metadata.name);
          continue;
        }
        if (o.metadata.deletionTimestamp) continue;
        try {
          this.host.objects.delete(r, name, o.metadata.name);
        } catch {
          // raced with another delete
        }
      }
    }
    if (remaining > 0) {
      // check again once the pods have terminated
      const left = RESOURCES.some((r) => r.namespaced && this.host.store.list(r.plural, name).length > 0);
      if (left) return;
    }
    this.host.recorder.forgetNamespace(name);
    this.host.objects.remove('namespaces', undefined, name);
  }
}
