// The policy map: namespaces as boxes with their pods, external hosts on the side, and arrows
// for who can reach whom (green allowed, red dashed blocked), plus the reachability matrix.
// Everything is computed on the server by the policy engine; this only draws it.
import { api } from '../api.ts';
import { clear, h, svg } from '../dom.ts';
import type { PolicyMapView } from '../../shared/api.ts';

interface Box {
  x: number;
  y: number;
}

/** How often the map re-reads the cluster while on screen: often when nothing tells it of changes, rarely (a safety net) when the server does. */
const POLL_MS = 4000;
const PUSHED_POLL_MS = 30_000;

export class PolicyMapPanel {
  private visible = false;
  private pushed = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private last: PolicyMapView | undefined;
  private showBlocked = false;
  private focus: string | undefined;

  constructor(private readonly pane: HTMLElement, private readonly labId: string) {
    pane.append(h('p', { class: 'empty' }, 'The policy map appears once your cluster is running.'));
  }

  setVisible(v: boolean): void {
    this.visible = v;
    this.schedule();
    if (v) this.refresh();
  }

  /** The server sends "cluster-changed" for this environment (embedded clusters do), so polling can be slow. */
  setPushed(pushed: boolean): void {
    if (pushed === this.pushed) return;
    this.pushed = pushed;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // the learner changes the cluster from the terminal, which the page does not see
    if (this.visible) this.timer = setInterval(() => this.refresh(), this.pushed ? PUSHED_POLL_MS : POLL_MS);
  }

  refresh(): void {
    if (!this.visible) return;
    api.get<PolicyMapView>(`/labs/${encodeURIComponent(this.labId)}/map`).then(
      (view) => {
        if (this.last && this.last.text === view.text && JSON.stringify(this.last.policies) === JSON.stringify(view.policies)) return;
        this.last = view;
        this.draw();
      },
      (err: Error) => {
        clear(this.pane);
        this.pane.append(h('p', { class: 'empty' }, err.message));
      },
    );
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private draw(): void {
    const view = this.last;
    if (!view) return;
    clear(this.pane);
    const toggle = h('label', { class: 'toggle' }, h('input', { type: 'checkbox', checked: this.showBlocked, onchange: (e: Event) => { this.showBlocked = (e.target as HTMLInputElement).checked; this.draw(); } }), ' show blocked paths');
    this.pane.append(
      h('div', { class: 'map-head' }, h('h2', {}, 'Your cluster now'), toggle, h('span', { class: 'legend' }, h('i', { class: 'allow' }), 'allowed ', h('i', { class: 'deny' }), 'blocked'), h('span', { class: 'at' }, `updated ${new Date(view.at).toLocaleTimeString()}`)),
      h('div', { class: 'map-scroll' }, this.drawSvg(view)),
      h('h3', {}, 'Reachability'),
      this.drawMatrix(view),
      h('h3', {}, 'Policies'),
      view.policies.length
        ? h('table', { class: 'policies' }, h('tr', {}, h('th', {}, 'namespace'), h('th', {}, 'name'), h('th', {}, 'selects'), h('th', {}, 'types')),
            ...view.policies.map((p) => h('tr', {}, h('td', {}, p.namespace), h('td', {}, p.name), h('td', {}, p.podSelector), h('td', {}, p.types.join(', ')))))
        : h('p', { class: 'empty' }, 'No NetworkPolicies yet: every pod can reach every other.'),
    );
  }

  private drawSvg(view: PolicyMapView): SVGElement {
    const podW = 150, podH = 30, gap = 12, pad = 16, nsGap = 28;
    const positions = new Map<string, Box>();
    let x = pad;
    let height = 0;
    const groups: SVGElement[] = [];
    for (const ns of view.namespaces) {
      const w = podW + pad * 2;
      const hgt = 34 + Math.max(1, ns.pods.length) * (podH + gap) + pad;
      const g = svg('g', { class: 'ns' }, svg('rect', { x, y: pad, width: w, height: hgt, rx: 10, class: 'ns-box' }), svg('text', { x: x + pad, y: pad + 22, class: 'ns-name' }, ns.name));
      ns.pods.forEach((p, i) => {
        const key = `${ns.name}/${p.name}`;
        const py = pad + 34 + i * (podH + gap);
        positions.set(key, { x: x + pad, y: py });
        const label = Object.entries(p.labels).filter(([k]) => k !== 'pod-template-hash').map(([k, v]) => `${k}=${v}`).join(' ');
        const pod = svg('g', { class: `pod${this.focus === key ? ' focus' : ''}`, 'data-pod': key }, svg('rect', { x: x + pad, y: py, width: podW, height: podH, rx: 6 }), svg('text', { x: x + pad + 8, y: py + 19 }, truncate(p.name, 19)), svg('title', {}, `${key}\n${p.ip}\n${label}`));
        pod.addEventListener('click', () => {
          this.focus = this.focus === key ? undefined : key;
          this.draw();
        });
        g.append(pod);
      });
      groups.push(g);
      x += w + nsGap;
      height = Math.max(height, hgt + pad * 2);
    }
    if (view.externals.length) {
      const w = podW + pad * 2;
      const hgt = 34 + view.externals.length * (podH + gap) + pad;
      const g = svg('g', { class: 'ns external' }, svg('rect', { x, y: pad, width: w, height: hgt, rx: 10, class: 'ns-box' }), svg('text', { x: x + pad, y: pad + 22, class: 'ns-name' }, 'outside the cluster'));
      view.externals.forEach((e, i) => {
        const py = pad + 34 + i * (podH + gap);
        positions.set(e.name, { x: x + pad, y: py });
        g.append(svg('g', { class: 'pod ext' }, svg('rect', { x: x + pad, y: py, width: podW, height: podH, rx: 15 }), svg('text', { x: x + pad + 10, y: py + 19 }, truncate(e.name, 19)), svg('title', {}, `${e.name} (${e.address})`)));
      });
      groups.push(g);
      x += w + nsGap;
      height = Math.max(height, hgt + pad * 2);
    }
    const edges = svg('g', { class: 'edges' });
    view.endpoints.forEach((from, i) => {
      view.endpoints.forEach((to, j) => {
        const v = view.matrix[i][j];
        if (v === null) return;
        if (v === 'deny' && !this.showBlocked && this.focus !== from && this.focus !== to) return;
        if (this.focus && this.focus !== from && this.focus !== to) return;
        const a = positions.get(from), b = positions.get(to);
        if (!a || !b) return;
        const y1 = a.y + podH / 2, y2 = b.y + podH / 2;
        let d: string;
        if (Math.abs(a.x - b.x) < 1) {
          // same namespace: a loop on the right-hand side
          d = `M${a.x + podW} ${y1} C ${a.x + podW + 40} ${y1}, ${b.x + podW + 40} ${y2}, ${b.x + podW} ${y2}`;
        } else {
          // leave and enter on the facing sides, so arrows never cross a pod's name
          const x1 = b.x > a.x ? a.x + podW : a.x;
          const x2 = b.x > a.x ? b.x : b.x + podW;
          d = `M${x1} ${y1} C ${(x1 + x2) / 2} ${y1}, ${(x1 + x2) / 2} ${y2}, ${x2} ${y2}`;
        }
        edges.append(svg('path', { d, class: `edge ${v}`, 'marker-end': `url(#arrow-${v})` }, svg('title', {}, `${from} → ${to}:${view.targetPorts[j]} ${v === 'allow' ? 'allowed' : 'blocked'}`)));
      });
    });
    const defs = svg('defs', {},
      svg('marker', { id: 'arrow-allow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' }, svg('path', { d: 'M0 0 L10 5 L0 10 z', class: 'arrow allow' })),
      svg('marker', { id: 'arrow-deny', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' }, svg('path', { d: 'M0 0 L10 5 L0 10 z', class: 'arrow deny' })),
    );
    return svg('svg', { class: 'map-svg', viewBox: `0 0 ${Math.max(x, 300)} ${Math.max(height, 120)}`, width: Math.max(x, 300), role: 'img', 'aria-label': 'policy map' }, defs, ...groups, edges);
  }

  private drawMatrix(view: PolicyMapView): HTMLElement {
    const head = h('tr', {}, h('th', { class: 'corner' }, 'from ↓ to →'), ...view.endpoints.map((e, j) => h('th', { title: `${e}:${view.targetPorts[j]}` }, h('span', {}, shortName(e)))));
    const rows = view.endpoints.map((from, i) =>
      h('tr', {}, h('th', { title: from }, from), ...view.matrix[i].map((v, j) =>
        h('td', { class: v ?? 'self', title: v ? `${from} → ${view.endpoints[j]}:${view.targetPorts[j]}: ${v === 'allow' ? 'allowed' : 'blocked'}` : '' }, v === null ? '·' : v === 'allow' ? '✓' : '✗'),
      )),
    );
    return h('div', { class: 'matrix-wrap' }, h('table', { class: 'matrix', id: 'matrix' }, head, ...rows));
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

function shortName(key: string): string {
  const parts = key.split('/');
  return truncate(parts[parts.length - 1], 14);
}
