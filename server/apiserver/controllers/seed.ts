// What a fresh cluster contains before anyone uses it, as kubeadm/kind leave it: the four
// namespaces, the node, the `kubernetes` service, and cluster DNS (the kube-dns Service at the
// DNS service IP and a CoreDNS Deployment whose pods run through the runtime like any other).
import os from 'node:os';
import { SERVER_VERSION } from '../discovery.ts';
import { rfc3339 } from '../duration.ts';
import { newUid } from '../names.ts';
import type { ObjectService } from '../objects.ts';
import { parseCidr4 } from '../objects.ts';
import { mustResource } from '../resources.ts';
import type { ClusterNetworkOptions, KubeObject } from '../runtime.ts';
import { thaw } from '../store.ts';

type Json = any;

export const COREDNS_IMAGE = 'registry.k8s.io/coredns/coredns:v1.11.3';

function firstServiceIP(serviceCIDR: string): string {
  const { base } = parseCidr4(serviceCIDR);
  const n = base + 1;
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function corefile(clusterDomain: string): string {
  return `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes ${clusterDomain} in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success ${clusterDomain}
       disable denial ${clusterDomain}
    }
    loop
    reload
    loadbalance
}
`;
}

function nodeObject(network: ClusterNetworkOptions, now: number): KubeObject {
  const at = rfc3339(now);
  const cpus = String(os.cpus().length || 1);
  const memory = `${Math.floor(os.totalmem() / 1024)}Ki`;
  const condition = (type: string, status: string, reason: string, message: string) => ({ lastHeartbeatTime: at, lastTransitionTime: at, message, reason, status, type });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: network.nodeName,
      uid: newUid(),
      creationTimestamp: at,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': network.nodeName,
        'kubernetes.io/os': 'linux',
        'node-role.kubernetes.io/control-plane': '',
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: { podCIDR: network.podCIDR, podCIDRs: [network.podCIDR] },
    status: {
      addresses: [{ address: network.nodeName, type: 'Hostname' }],
      allocatable: { cpu: cpus, 'ephemeral-storage': '10Gi', memory, pods: '110' },
      capacity: { cpu: cpus, 'ephemeral-storage': '10Gi', memory, pods: '110' },
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: newUid(),
        containerRuntimeVersion: 'containerd://1.7.24',
        kernelVersion: os.release(),
        kubeProxyVersion: SERVER_VERSION.gitVersion,
        kubeletVersion: SERVER_VERSION.gitVersion,
        machineID: newUid().replace(/-/g, ''),
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        systemUUID: newUid(),
      },
    },
  };
}

/** Create the objects every cluster starts with. */
export function seedCluster(objects: ObjectService, network: ClusterNetworkOptions): void {
  const store = objects.store;
  for (const name of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) {
    objects.create(mustResource('namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  store.create('nodes', nodeObject(network, objects.now()));
  objects.create(mustResource('services'), 'default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { clusterIP: firstServiceIP(network.serviceCIDR), ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }], sessionAffinity: 'None', type: 'ClusterIP' },
  });
  objects.create(mustResource('serviceaccounts'), 'kube-system', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: 'kube-system' } });
  objects.create(mustResource('configmaps'), 'kube-system', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'coredns', namespace: 'kube-system' },
    data: { Corefile: corefile(network.clusterDomain) },
  });
  objects.create(mustResource('services'), 'kube-system', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
      annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
    },
    spec: {
      clusterIP: network.dnsServiceIP,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
      selector: { 'k8s-app': 'kube-dns' },
      type: 'ClusterIP',
    },
  });
  objects.create(mustResource('deployments'), 'kube-system', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 }, type: 'RollingUpdate' },
      template: {
        metadata: { labels: { 'k8s-app': 'kube-dns' } },
        spec: {
          containers: [
            {
              name: 'coredns',
              image: COREDNS_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              args: ['-conf', '/etc/coredns/Corefile'],
              ports: [
                { containerPort: 53, name: 'dns', protocol: 'UDP' },
                { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
                { containerPort: 9153, name: 'metrics', protocol: 'TCP' },
              ],
              resources: { limits: { memory: '170Mi' }, requests: { cpu: '100m', memory: '70Mi' } },
              volumeMounts: [{ mountPath: '/etc/coredns', name: 'config-volume', readOnly: true }],
            },
          ],
          dnsPolicy: 'Default',
          serviceAccountName: 'coredns',
          volumes: [{ configMap: { items: [{ key: 'Corefile', path: 'Corefile' }], name: 'coredns' }, name: 'config-volume' }],
        },
      },
    },
  });
}

/** The node's address, once the runtime reported it: node status and the `kubernetes` endpoints. */
export function recordNodeAddress(objects: ObjectService, network: ClusterNetworkOptions, ip: string): void {
  const store = objects.store;
  const node = store.get('nodes', undefined, network.nodeName) as Json;
  if (node && !(node.status?.addresses ?? []).some((a: Json) => a.type === 'InternalIP')) {
    const next = thaw(node);
    next.status.addresses = [{ address: ip, type: 'InternalIP' }, ...next.status.addresses];
    store.update('nodes', next);
  }
  if (!store.get('endpoints', 'default', 'kubernetes')) {
    const at = rfc3339(objects.now());
    store.create('endpoints', {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' }, uid: newUid(), creationTimestamp: at },
      subsets: [{ addresses: [{ ip }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }],
    });
    store.create('endpointslices', {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' }, uid: newUid(), generation: 1, creationTimestamp: at },
      addressType: 'IPv4',
      endpoints: [{ addresses: [ip], conditions: { ready: true } }],
      ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
    });
  }
}
