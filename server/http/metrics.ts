// Prometheus metrics at /metrics (prom-client), one registry per server so tests don't share state.
import client from 'prom-client';

export class Metrics {
  readonly registry = new client.Registry();
  readonly http = new client.Histogram({
    name: 'kubelab_http_request_duration_seconds',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.02, 0.1, 0.5, 2, 10],
    registers: [this.registry],
  });
  readonly environments = new client.Gauge({ name: 'kubelab_environments', help: 'environments running or provisioning', registers: [this.registry] });
  readonly warm = new client.Gauge({ name: 'kubelab_warm_environments', help: 'environments built ahead and ready to hand out, by lab', labelNames: ['lab'] as const, registers: [this.registry] });
  readonly warmFailed = new client.Gauge({ name: 'kubelab_warm_build_failures', help: 'background builds of environments kept ready that failed, by lab', labelNames: ['lab'] as const, registers: [this.registry] });
  readonly terminals = new client.Gauge({ name: 'kubelab_terminals', help: 'live learner shells', registers: [this.registry] });
  readonly liveConnections = new client.Gauge({ name: 'kubelab_live_connections', help: 'open live-update sockets', registers: [this.registry] });
  readonly terminalConnects = new client.Counter({ name: 'kubelab_terminal_connects_total', help: 'terminal WebSocket connections accepted', registers: [this.registry] });
  readonly wsRefused = new client.Counter({
    name: 'kubelab_websocket_refused_total',
    help: 'WebSocket upgrades refused, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly checks = new client.Counter({ name: 'kubelab_checks_total', help: 'step checks by outcome', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly joins = new client.Counter({ name: 'kubelab_joins_total', help: 'learners joined', registers: [this.registry] });
  readonly rateLimited = new client.Counter({ name: 'kubelab_rate_limited_total', help: 'requests refused by a rate limit', labelNames: ['what'] as const, registers: [this.registry] });

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'kubelab_' });
  }
}
