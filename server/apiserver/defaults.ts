// Server-set defaults per kind (pkg/apis/*/v1/defaults.go plus what admission adds), applied in
// place to a writable object before validation, so `-o yaml` and describe look like a real cluster.
import { randomBytes } from 'node:crypto';
import { defaultNetworkPolicy, type NetworkPolicy } from '../netpol/index.ts';
import type { KubeObject } from './runtime.ts';

type Json = any;

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** utilrand.String: the suffix generateName and pod-template-hash pods use. */
export function randomSuffix(n = 5): string {
  const bytes = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += NAME_ALPHABET[bytes[i] % NAME_ALPHABET.length];
  return s;
}

/** rand.SafeEncodeString: maps hex-ish text onto the alphabet that avoids vowels and look-alikes. */
export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += NAME_ALPHABET[s.charCodeAt(i) % NAME_ALPHABET.length];
  return out;
}

function imagePullPolicy(image: unknown): string {
  if (typeof image !== 'string') return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const nameAndTag = image.slice(lastSlash + 1).split('@')[0];
  if (image.includes('@')) return 'IfNotPresent';
  const colon = nameAndTag.lastIndexOf(':');
  if (colon < 0) return 'Always';
  return nameAndTag.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Json): void {
  if (!c || typeof c !== 'object') return;
  c.imagePullPolicy ??= imagePullPolicy(c.image);
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  for (const p of c.ports ?? []) if (p && typeof p === 'object') p.protocol ??= 'TCP';
  for (const e of c.env ?? []) {
    const ref = e?.valueFrom?.fieldRef;
    if (ref) ref.apiVersion ??= 'v1';
  }
}

/** SetDefaults_PodSpec: what every pod spec gets, in pods and in templates alike. */
export function defaultPodSpec(podSpec: unknown): void {
  if (!podSpec || typeof podSpec !== 'object') return;
  const spec = podSpec as Json;
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const v of spec.volumes ?? []) {
    if (v?.configMap) v.configMap.defaultMode ??= 420;
    if (v?.secret) v.secret.defaultMode ??= 420;
    if (v && !v.configMap && !v.secret && !v.projected && !v.hostPath && !v.persistentVolumeClaim && !v.emptyDir && !v.downwardAPI) v.emptyDir = {};
  }
}

const DEFAULT_TOLERATIONS = [
  { effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 },
  { effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 300 },
];

/** A pod as admission and defaulting leave it: service account token volume, priority, tolerations. */
function defaultPod(pod: Json): void {
  pod.spec ??= {};
  const spec = pod.spec;
  defaultPodSpec(spec);
  spec.enableServiceLinks ??= true;
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  spec.serviceAccount = spec.serviceAccountName;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.tolerations ??= [];
  for (const t of DEFAULT_TOLERATIONS) {
    if (!spec.tolerations.some((x: Json) => x.key === t.key && x.effect === t.effect)) spec.tolerations.push({ ...t });
  }
  if (spec.automountServiceAccountToken !== false && !(spec.volumes ?? []).some((v: Json) => String(v.name).startsWith('kube-api-access-'))) {
    const name = `kube-api-access-${randomSuffix(5)}`;
    spec.volumes = [...(spec.volumes ?? []), serviceAccountVolume(name)];
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      if (c && typeof c === 'object') c.volumeMounts = [...(c.volumeMounts ?? []), { mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', name, readOnly: true }];
    }
  }
  pod.status ??= {};
  pod.status.phase ??= 'Pending';
  pod.status.qosClass ??= qosClass(spec);
}

function serviceAccountVolume(name: string): Json {
  return {
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { items: [{ key: 'ca.crt', path: 'ca.crt' }], name: 'kube-root-ca.crt' } },
        { downwardAPI: { items: [{ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' }, path: 'namespace' }] } },
      ],
    },
  };
}

function qosClass(spec: Json): string {
  const containers: Json[] = spec.containers ?? [];
  const any = containers.some((c) => Object.keys(c?.resources?.requests ?? {}).length || Object.keys(c?.resources?.limits ?? {}).length);
  if (!any) return 'BestEffort';
  const guaranteed = containers.every((c) => {
    const l = c?.resources?.limits ?? {};
    const r = c?.resources?.requests ?? l;
    return l.cpu && l.memory && String(r.cpu ?? l.cpu) === String(l.cpu) && String(r.memory ?? l.memory) === String(l.memory);
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function defaultService(svc: Json): void {
  svc.spec ??= {};
  const spec = svc.spec;
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.type !== 'ExternalName') spec.internalTrafficPolicy ??= 'Cluster';
  for (const p of spec.ports ?? []) {
    if (!p || typeof p !== 'object') continue;
    p.protocol ??= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  svc.status ??= { loadBalancer: {} };
}

function defaultWorkload(o: Json, deployment: boolean): void {
  o.spec ??= {};
  const spec = o.spec;
  spec.replicas ??= 1;
  if (deployment) {
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    spec.strategy ??= {};
    spec.strategy.type ??= 'RollingUpdate';
    if (spec.strategy.type === 'RollingUpdate') {
      spec.strategy.rollingUpdate ??= {};
      spec.strategy.rollingUpdate.maxSurge ??= '25%';
      spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
    }
  }
  if (spec.template) {
    spec.template.metadata ??= {};
    spec.template.metadata.creationTimestamp ??= null;
    defaultPodSpec(spec.template.spec);
  }
  o.status ??= {};
}

/** Apply a kind's server defaults in place (plural resource name). */
export function applyDefaults(resource: string, o: KubeObject): KubeObject {
  const obj = o as Json;
  switch (resource) {
    case 'pods':
      defaultPod(obj);
      return o;
    case 'services':
      defaultService(obj);
      return o;
    case 'deployments':
      defaultWorkload(obj, true);
      return o;
    case 'replicasets':
      defaultWorkload(obj, false);
      return o;
    case 'namespaces':
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
      obj.spec ??= {};
      obj.spec.finalizers ??= ['kubernetes'];
      obj.status ??= {};
      obj.status.phase ??= 'Active';
      return o;
    case 'networkpolicies': {
      if (!obj.spec || typeof obj.spec !== 'object') return o;
      const d = defaultNetworkPolicy(obj as NetworkPolicy) as Json;
      obj.spec = d.spec;
      obj.spec.podSelector ??= {};
      return o;
    }
    case 'secrets':
      obj.type ??= 'Opaque';
      return o;
    case 'endpoints':
      for (const ss of obj.subsets ?? []) for (const p of ss.ports ?? []) p.protocol ??= 'TCP';
      return o;
    case 'endpointslices':
      for (const p of obj.ports ?? []) p.protocol ??= 'TCP';
      return o;
    default:
      return o;
  }
}
