// Server-side printing: meta.k8s.io/v1 Tables with the columns and cells of kube-apiserver 1.32's
// printers (pkg/printers/internalversion/printers.go), always generated wide so `kubectl -o wide`
// only has to show the priority-1 columns.
import { ageSince } from './duration.ts';
import type { KubeObject } from './runtime.ts';
import { formatLabelSelector, formatLabels, selectorRequirements, type LabelSelectorObject } from './selectors.ts';

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export type Cell = string | number;

export interface TableRow {
  cells: Cell[];
  conditions?: Array<{ type: string; status: string }>;
  object?: unknown;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1' | 'meta.k8s.io/v1beta1';
  metadata: { resourceVersion?: string; continue?: string };
  columnDefinitions: ColumnDefinition[];
  rows: TableRow[];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

type Printer = (o: KubeObject, now: number) => { cells: Cell[]; conditions?: TableRow['conditions'] };

function col(name: string, description: string, priority = 0, format = ''): ColumnDefinition {
  return { name, type: 'string', format, description, priority };
}

const NAME = col('Name', 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.', 0, 'name');
const AGE = col('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');

type Json = any;

const age = (o: KubeObject, now: number) => ageSince(o.metadata.creationTimestamp, now);

/** labels.Selector.String(): requirements sorted by key. */
export function selectorString(sel: LabelSelectorObject | undefined | null): string {
  if (!sel) return '';
  const reqs = selectorRequirements(sel).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs
    .map((r) => {
      switch (r.operator) {
        case '=':
        case '==':
          return `${r.key}=${r.values[0]}`;
        case '!=':
          return `${r.key}!=${r.values[0]}`;
        case 'in':
          return `${r.key} in (${[...r.values].sort().join(',')})`;
        case 'notin':
          return `${r.key} notin (${[...r.values].sort().join(',')})`;
        case 'exists':
          return r.key;
        case '!':
          return `!${r.key}`;
        case 'gt':
          return `${r.key}>${r.values[0]}`;
        case 'lt':
          return `${r.key}<${r.values[0]}`;
      }
    })
    .join(',');
}

function containerCells(containers: Json[] | undefined): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name).join(','), list.map((c) => c.image).join(',')];
}

function podStatus(pod: Json, now: number): { ready: string; reason: string; restarts: string; conditions?: TableRow['conditions'] } {
  const status = pod.status ?? {};
  const phase: string = status.phase ?? '';
  let reason: string = status.reason || phase;
  const total = (pod.spec?.containers ?? []).length;
  let ready = 0;
  let restarts = 0;
  let lastRestart = 0;
  let initializing = false;
  const initStatuses: Json[] = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    restarts += c.restartCount ?? 0;
    const term = c.state?.terminated;
    if (term && term.exitCode === 0) continue;
    initializing = true;
    if (term) reason = term.reason ? `Init:${term.reason}` : term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
    else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${(pod.spec?.initContainers ?? []).length}`;
    break;
  }
  const initialized = (status.conditions ?? []).some((c: Json) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    restarts = 0;
    let hasRunning = false;
    const statuses: Json[] = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      restarts += c.restartCount ?? 0;
      const finished = c.lastState?.terminated?.finishedAt;
      if (finished) lastRestart = Math.max(lastRestart, Date.parse(finished));
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state?.terminated) reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = (status.conditions ?? []).some((c: Json) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  let restartsText = String(restarts);
  if (restarts !== 0 && lastRestart) restartsText = `${restarts} (${ageSince(new Date(lastRestart).toISOString(), now)} ago)`;
  const conditions = phase === 'Succeeded' ? [{ type: 'Completed', status: 'True' }] : phase === 'Failed' ? [{ type: 'Completed', status: 'False' }] : undefined;
  return { ready: `${ready}/${total}`, reason, restarts: restartsText, conditions };
}

function portString(ports: Json[] | undefined): string {
  return (ports ?? []).map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

function serviceExternalIP(svc: Json): string {
  const spec = svc.spec ?? {};
  const external: string[] = spec.externalIPs ?? [];
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
    case undefined:
      return external.length ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      const ingress: Json[] = svc.status?.loadBalancer?.ingress ?? [];
      const ips = [...ingress.map((i) => i.ip || i.hostname).filter(Boolean), ...external];
      return ips.length ? ips.join(',') : '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

function withMore(list: string[], more: boolean, count: number, max: number, empty: string): string {
  const s = list.join(',');
  if (more) return `${s} + ${count - max} more...`;
  return s === '' ? empty : s;
}

function endpointsString(ep: Json): string {
  const subsets: Json[] = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs: Json[] = ss.addresses ?? [];
    const ports: Json[] = ss.ports ?? [];
    if (ports.length === 0) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const p of ports) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(String(a.ip).includes(':') ? `[${a.ip}]:${p.port}` : `${a.ip}:${p.port}`);
      }
    }
  }
  const s = list.join(',');
  return more ? `${s} + ${count - max} more...` : s;
}

function sliceList(items: string[]): string {
  const max = 3;
  const list = items.slice(0, max);
  return withMore(list, items.length > max, items.length, max, '<unset>');
}

function eventSource(e: Json): string {
  const component = e.source?.component || e.reportingComponent || '';
  const instance = e.source?.host || e.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

function nodeStatus(n: Json): string {
  const conds: Json[] = n.status?.conditions ?? [];
  const ready = conds.find((c) => c.type === 'Ready');
  const parts = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (n.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(n: Json): string {
  const roles: string[] = [];
  for (const [k, v] of Object.entries((n.metadata.labels ?? {}) as Record<string, string>)) {
    if (k.startsWith('node-role.kubernetes.io/')) roles.push(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) roles.push(v);
  }
  return roles.length ? roles.sort().join(',') : '<none>';
}

interface PrinterSpec {
  columns: ColumnDefinition[];
  print: Printer;
}

const PRINTERS: Record<string, PrinterSpec> = {
  pods: {
    columns: [
      NAME,
      col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      AGE,
      col('IP', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
      col('Node', "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName.", 1),
      col('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.', 1),
      col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
    ],
    print(o, now) {
      const p = o as Json;
      const s = podStatus(p, now);
      const gates: Json[] = p.spec?.readinessGates ?? [];
      let gatesText = '<none>';
      if (gates.length) {
        const conds: Json[] = p.status?.conditions ?? [];
        const ok = gates.filter((g) => conds.some((c) => c.type === g.conditionType && c.status === 'True')).length;
        gatesText = `${ok}/${gates.length}`;
      }
      const ips: Json[] = p.status?.podIPs ?? [];
      return {
        cells: [o.metadata.name, s.ready, s.reason, s.restarts, age(o, now), ips[0]?.ip || '<none>', p.spec?.nodeName || '<none>', p.status?.nominatedNodeName || '<none>', gatesText],
        conditions: s.conditions,
      };
    },
  },
  services: {
    columns: [
      NAME,
      col('Type', 'The type of the service.'),
      col('Cluster-IP', 'The IP address of the service.'),
      col('External-IP', 'The list of external IP addresses for the service.'),
      col('Port(s)', 'The list of ports exposed by the service.'),
      AGE,
      col('Selector', 'Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify.', 1),
    ],
    print(o, now) {
      const s = o as Json;
      const ports = portString(s.spec?.ports);
      return {
        cells: [o.metadata.name, s.spec?.type ?? '', (s.spec?.clusterIPs ?? [])[0] ?? '<none>', serviceExternalIP(s), ports || '<none>', age(o, now), formatLabels(s.spec?.selector)],
      };
    },
  },
  namespaces: {
    columns: [NAME, col('Status', 'The status of the namespace'), AGE],
    print: (o, now) => ({ cells: [o.metadata.name, (o as Json).status?.phase ?? '', age(o, now)] }),
  },
  networkpolicies: {
    columns: [NAME, col('Pod-Selector', 'Selects the pods to which this NetworkPolicy object applies. The array of ingress rules is applied to any pods selected by this field.'), AGE],
    print: (o, now) => ({ cells: [o.metadata.name, formatLabelSelector((o as Json).spec?.podSelector), age(o, now)] }),
  },
  events: {
    columns: [
      col('Last Seen', 'The time at which the most recent occurrence of this event was recorded.'),
      col('Type', 'Type of this event (Normal, Warning), new types could be added in the future.'),
      col('Reason', 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
      col('Object', 'The object that this event is about.'),
      col('Subobject', 'The subobject that this event is about.', 1),
      col('Source', 'The component reporting this event. Should be a short machine understandable string.', 1),
      col('Message', 'A human-readable description of the status of this operation.'),
      col('First Seen', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
      col('Count', 'The number of times this event has occurred.', 1),
      col('Name', 'Name must be unique within a namespace.', 1, 'name'),
    ],
    print(o, now) {
      const e = o as Json;
      let first = ageSince(e.firstTimestamp, now);
      if (!e.firstTimestamp) first = ageSince(e.eventTime, now);
      let last = e.lastTimestamp ? ageSince(e.lastTimestamp, now) : first;
      let count: number = e.count ?? 0;
      if (e.series) {
        last = ageSince(e.series.lastObservedTime, now);
        count = e.series.count;
      } else if (count === 0) count = 1;
      const inv = e.involvedObject ?? {};
      const target = inv.name ? `${String(inv.kind ?? '').toLowerCase()}/${inv.name}` : String(inv.kind ?? '').toLowerCase();
      return { cells: [last, e.type ?? '', e.reason ?? '', target, inv.fieldPath ?? '', eventSource(e), String(e.message ?? '').trim(), first, count, o.metadata.name] };
    },
  },
  endpoints: {
    columns: [NAME, col('Endpoints', 'Endpoints of the service'), AGE],
    print: (o, now) => ({ cells: [o.metadata.name, endpointsString(o), age(o, now)] }),
  },
  endpointslices: {
    columns: [
      NAME,
      col('AddressType', 'The IP protocol for this slice'),
      col('Ports', 'The ports for this slice'),
      col('Endpoints', 'The endpoints for this slice'),
      AGE,
    ],
    print(o, now) {
      const s = o as Json;
      const ports = (s.ports ?? []).map((p: Json) => (p.port !== undefined && p.port !== null ? String(p.port) : p.name ?? '*'));
      const addrs: string[] = [];
      for (const ep of s.endpoints ?? []) for (const a of ep.addresses ?? []) addrs.push(a);
      return { cells: [o.metadata.name, s.addressType ?? '', sliceList(ports), sliceList(addrs), age(o, now)] };
    },
  },
  deployments: {
    columns: [
      NAME,
      col('Ready', 'Number of the pod with ready state'),
      col('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
      col('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
      AGE,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
      col('Selector', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', 1),
    ],
    print(o, now) {
      const d = o as Json;
      const [containers, images] = containerCells(d.spec?.template?.spec?.containers);
      const st = d.status ?? {};
      return {
        cells: [o.metadata.name, `${st.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`, st.updatedReplicas ?? 0, st.availableReplicas ?? 0, age(o, now), containers, images, selectorString(d.spec?.selector)],
      };
    },
  },
  replicasets: {
    columns: [
      NAME,
      col('Desired', 'Replicas is the number of desired replicas.'),
      col('Current', 'Replicas is the most recently observed number of replicas.'),
      col('Ready', 'The number of ready replicas for this replica set.'),
      AGE,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
      col('Selector', 'Selector is a label query over pods that should match the replica count.', 1),
    ],
    print(o, now) {
      const r = o as Json;
      const [containers, images] = containerCells(r.spec?.template?.spec?.containers);
      return {
        cells: [o.metadata.name, r.spec?.replicas ?? 0, r.status?.replicas ?? 0, r.status?.readyReplicas ?? 0, age(o, now), containers, images, selectorString(r.spec?.selector)],
      };
    },
  },
  configmaps: {
    columns: [NAME, col('Data', 'Data contains the configuration data.'), AGE],
    print: (o, now) => ({ cells: [o.metadata.name, Object.keys((o.data as object) ?? {}).length + Object.keys((o.binaryData as object) ?? {}).length, age(o, now)] }),
  },
  secrets: {
    columns: [NAME, col('Type', 'The type of the secret'), col('Data', 'The number of entries in the secret'), AGE],
    print: (o, now) => ({ cells: [o.metadata.name, String(o.type ?? ''), Object.keys((o.data as object) ?? {}).length, age(o, now)] }),
  },
  serviceaccounts: {
    columns: [NAME, col('Secrets', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), AGE],
    print: (o, now) => ({ cells: [o.metadata.name, ((o.secrets as unknown[]) ?? []).length, age(o, now)] }),
  },
  nodes: {
    columns: [
      NAME,
      col('Status', 'The status of the node'),
      col('Roles', 'The roles of the node'),
      AGE,
      col('Version', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available.', 1),
      col('External-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available.', 1),
      col('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
      col('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
      col('Container-Runtime', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
    ],
    print(o, now) {
      const n = o as Json;
      const addrs: Json[] = n.status?.addresses ?? [];
      const info = n.status?.nodeInfo ?? {};
      return {
        cells: [
          o.metadata.name,
          nodeStatus(n),
          nodeRoles(n),
          age(o, now),
          info.kubeletVersion ?? '',
          addrs.find((a) => a.type === 'InternalIP')?.address ?? '<none>',
          addrs.find((a) => a.type === 'ExternalIP')?.address ?? '<none>',
          info.osImage || '<unknown>',
          info.kernelVersion || '<unknown>',
          info.containerRuntimeVersion || '<unknown>',
        ],
      };
    },
  },
  resourcequotas: {
    columns: [NAME, AGE, col('Request', 'Request represents a minimum amount of cpu/memory that a container may consume.'), col('Limit', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.')],
    print(o, now) {
      const q = o as Json;
      const used = q.status?.used ?? {};
      const hard = q.status?.hard ?? {};
      const req: string[] = [];
      const lim: string[] = [];
      for (const k of Object.keys(hard).sort()) {
        const text = `${k}: ${used[k] ?? '0'}/${hard[k]}`;
        if (k.startsWith('limits.')) lim.push(text);
        else req.push(text);
      }
      return { cells: [o.metadata.name, age(o, now), req.join(', '), lim.join(', ')] };
    },
  },
  limitranges: {
    columns: [NAME, col('Created At', 'CreationTimestamp is a timestamp representing the server time when this object was created.')],
    print: (o) => ({ cells: [o.metadata.name, String(o.metadata.creationTimestamp ?? '')] }),
  },
};

const DEFAULT_PRINTER: PrinterSpec = { columns: [NAME, AGE], print: (o, now) => ({ cells: [o.metadata.name, age(o, now)] }) };

function rowObject(o: KubeObject, include: IncludeObject): unknown {
  switch (include) {
    case 'None':
      return undefined;
    case 'Object':
      return o;
    case 'Metadata':
      return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
  }
}

export interface TableOptions {
  now: number;
  includeObject: IncludeObject;
  /** omit columnDefinitions (watch events after the first) */
  noHeaders?: boolean;
  resourceVersion?: string;
  apiVersion?: 'meta.k8s.io/v1' | 'meta.k8s.io/v1beta1';
}

/** Print objects of one resource (plural name) as a Table. */
export function toTable(resource: string, objects: readonly KubeObject[], opts: TableOptions): Table {
  const printer = PRINTERS[resource] ?? DEFAULT_PRINTER;
  const rows: TableRow[] = objects.map((o) => {
    const { cells, conditions } = printer.print(o, opts.now);
    const row: TableRow = { cells };
    if (conditions) row.conditions = conditions;
    const object = rowObject(o, opts.includeObject);
    if (object !== undefined) row.object = object;
    return row;
  });
  const metadata: Table['metadata'] = {};
  if (opts.resourceVersion) metadata.resourceVersion = opts.resourceVersion;
  return { kind: 'Table', apiVersion: opts.apiVersion ?? 'meta.k8s.io/v1', metadata, columnDefinitions: opts.noHeaders ? [] : printer.columns, rows };
}

export function columnsOf(resource: string): readonly ColumnDefinition[] {
  return (PRINTERS[resource] ?? DEFAULT_PRINTER).columns;
}
