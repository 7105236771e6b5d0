// Reachability matrices in the shape of the upstream e2e truth tables: rows are sources, columns
// destinations, one table per port/protocol, `.` allowed and `X` denied.
import type { Connection, Endpoint, PortProtocol, ReachabilityGrid, Verdict } from './types.ts';
import { endpointFromString, type PodEntry } from './cluster.ts';

export interface MatrixRequest {
  /** "namespace/name", an address, or an Endpoint; default: every pod of the snapshot */
  sources?: Array<string | Endpoint>;
  destinations?: Array<string | Endpoint>;
  ports: PortProtocol[];
}

/** What matrix building needs of the engine. */
export interface MatrixSource {
  readonly cluster: { readonly pods: PodEntry[] };
  verdict(c: Connection): Verdict;
}

function asEndpoint(e: string | Endpoint): Endpoint {
  return typeof e === 'string' ? endpointFromString(e) : e;
}

function label(e: Endpoint): string {
  return 'pod' in e ? e.pod : e.ip;
}

/** Every source × destination × port/protocol verdict (a pod to itself is allowed, as always). */
export function buildMatrix(source: MatrixSource, request: MatrixRequest): ReachabilityGrid {
  const all = source.cluster.pods.map((p): Endpoint => ({ pod: p.key }));
  const froms = request.sources ? request.sources.map(asEndpoint) : all;
  const tos = request.destinations ? request.destinations.map(asEndpoint) : all;
  return {
    sources: froms.map(label),
    destinations: tos.map(label),
    tables: request.ports.map(({ port, protocol }) => ({
      port,
      protocol,
      cells: froms.map((from) => tos.map((to) => source.verdict({ from, to, port, protocol }))),
    })),
  };
}

/** Text tables, one per port/protocol, columns aligned; a cell left null prints `?`. */
export function renderMatrix(grid: ReachabilityGrid): string {
  const corner = 'from \\ to';
  const firstWidth = Math.max(corner.length, ...grid.sources.map((s) => s.length));
  const widths = grid.destinations.map((d) => Math.max(1, d.length));
  const row = (first: string, cells: string[]) => [first.padEnd(firstWidth), ...cells.map((c, i) => c.padEnd(widths[i]))].join('  ').trimEnd();
  const out: string[] = [];
  for (const table of grid.tables) {
    out.push(`${table.port}/${table.protocol}`);
    out.push(row(corner, grid.destinations));
    grid.sources.forEach((s, i) => out.push(row(s, table.cells[i].map((v) => (v === 'allow' ? '.' : v === 'deny' ? 'X' : '?')))));
    out.push('');
  }
  out.push('. allowed   X denied   ? not evaluated');
  return out.join('\n') + '\n';
}
