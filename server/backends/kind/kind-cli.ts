// The kind and docker commands this backend uses, and nothing else. Flags as in kind v0.32's
// pkg/cmd/kind: `create cluster` writes only the file given to --kubeconfig (never ~/.kube/config,
// which concurrent creates would race on), and is never given --wait: without a CNI it only waits
// for a node that cannot become Ready and then reports success anyway.
import type { CommandOptions, CommandResult } from './command.ts';
import { runCommand } from './command.ts';
import type { InotifyLimits } from './errors.ts';
import { KindError, classifyCommandFailure, classifyCreateFailure, kindErrorSummary } from './errors.ts';

export type Runner = (binary: string, args: readonly string[], opts: CommandOptions) => Promise<CommandResult>;

export interface KindCliOptions {
  kindBinary: string;
  dockerBinary: string;
  env: NodeJS.ProcessEnv;
  run?: Runner;
}

export interface CreateClusterRequest {
  name: string;
  config: string;
  kubeconfigPath: string;
  nodeImage: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** the host's limits, to tell an inotify failure from others */
  inotify?: InotifyLimits;
}

export class KindCli {
  private readonly run: Runner;
  constructor(private readonly opts: KindCliOptions) {
    this.run = opts.run ?? runCommand;
  }

  private kind(args: string[], timeoutMs: number, signal?: AbortSignal, stdin?: string): Promise<CommandResult> {
    return this.run(this.opts.kindBinary, args, { timeoutMs, signal, stdin, env: this.opts.env });
  }

  private docker(args: string[], timeoutMs: number, signal?: AbortSignal, stdin?: string): Promise<CommandResult> {
    return this.run(this.opts.dockerBinary, args, { timeoutMs, signal, stdin, env: this.opts.env });
  }

  /** `kind version`, e.g. "kind v0.32.0 go1.24.4 linux/amd64" */
  async version(): Promise<string> {
    const r = await this.kind(['version'], 30_000);
    if (r.code !== 0) throw classifyCommandFailure('kind version', r.stderr || r.stdout);
    return r.stdout.trim();
  }

  /** Throws a `docker-unavailable` KindError when the daemon does not answer. */
  async dockerInfo(): Promise<void> {
    const r = await this.docker(['info', '--format', '{{.ServerVersion}}'], 30_000);
    if (r.code !== 0 || r.stdout.trim() === '') {
      throw new KindError(
        'docker-unavailable',
        `Docker is not running: ${kindErrorSummary(r.stderr || r.stdout) || `docker info exited with ${r.code}`}. Start the Docker daemon (systemctl start docker) and try again.`,
        r.stderr,
      );
    }
  }

  async createCluster(req: CreateClusterRequest): Promise<void> {
    const args = ['create', 'cluster', '--name', req.name, '--config', '-', '--kubeconfig', req.kubeconfigPath, '--image', req.nodeImage];
    const r = await this.kind(args, req.timeoutMs, req.signal, req.config);
    if (r.code !== 0) throw classifyCreateFailure(r.stderr || r.stdout, req.inotify);
  }

  /** Idempotent: deleting a cluster that does not exist succeeds, as kind's own delete does. */
  async deleteCluster(name: string, timeoutMs: number): Promise<void> {
    const r = await this.kind(['delete', 'cluster', '--name', name], timeoutMs);
    if (r.code !== 0) throw classifyCommandFailure(`kind delete cluster --name ${name}`, r.stderr || r.stdout);
  }

  /** Names of every kind cluster on this Docker host (kind finds them by the io.x-k8s.kind.cluster label). */
  async getClusters(): Promise<string[]> {
    const r = await this.kind(['get', 'clusters'], 60_000);
    if (r.code !== 0) throw classifyCommandFailure('kind get clusters', r.stderr || r.stdout);
    // "No kind clusters found." goes to stderr; stdout holds one name per line
    return r.stdout
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => /^[a-z0-9][a-z0-9.-]*$/.test(l));
  }

  /** Node container names of a cluster (`<name>-control-plane`, `<name>-worker`, ...). */
  async getNodes(name: string): Promise<string[]> {
    const r = await this.kind(['get', 'nodes', '--name', name], 60_000);
    if (r.code !== 0) throw classifyCommandFailure(`kind get nodes --name ${name}`, r.stderr || r.stdout);
    return r.stdout
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => /^[a-z0-9][a-z0-9_.-]*$/.test(l));
  }

  async loadDockerImages(name: string, images: string[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (images.length === 0) return;
    const r = await this.kind(['load', 'docker-image', '--name', name, ...images], timeoutMs, signal);
    if (r.code !== 0) throw classifyCommandFailure(`kind load docker-image ${images.join(' ')}`, r.stderr || r.stdout);
  }

  async imagePresent(image: string): Promise<boolean> {
    const r = await this.docker(['image', 'inspect', '--format', '{{.Id}}', image], 60_000);
    return r.code === 0;
  }

  async pullImage(image: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const r = await this.docker(['pull', image], timeoutMs, signal);
    if (r.code !== 0) throw classifyCommandFailure(`docker pull ${image}`, r.stderr || r.stdout);
  }

  /** Run a fixed command inside a node container, as the server (never on a learner's behalf). */
  async nodeExec(node: string, command: string[], stdin: string | undefined, timeoutMs: number): Promise<void> {
    const r = await this.docker(['exec', ...(stdin !== undefined ? ['-i'] : []), node, ...command], timeoutMs, undefined, stdin);
    if (r.code !== 0) throw classifyCommandFailure(`docker exec ${node} ${command[0]}`, r.stderr || r.stdout);
  }
}
