// Execs started before they are needed. Starting an exec (a connection to the API, the upgrade,
// the pod's sandbox, a shell) costs more than anything a grading does besides waiting out its
// timeouts; so once a command has run in a pod, the next exec of the same command into that pod
// is started and left waiting for its standard input, which the next grading then writes. The
// command must not act before its input is complete (the probe script reader counts bytes).
import { PassThrough } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import { awaitExec, startExec, type ExecResult, type ExecTarget, type StartedExec } from './exec.ts';

interface Waiting {
  exec: StartedExec;
  stdin: PassThrough;
  timer?: NodeJS.Timeout;
}

export interface WarmExecOptions {
  /**
   * How long an exec may wait unused before it is closed (default 3 minutes: a learner working
   * on a step checks every minute or two). Each one holds a shell, its sandbox and a connection.
   */
  idleMs?: number;
}

export class WarmExecs {
  private readonly waiting = new Map<string, Waiting>();
  private closed = false;
  private readonly idleMs: number;

  constructor(
    private readonly config: KubeConfig,
    options: WarmExecOptions = {},
  ) {
    this.idleMs = options.idleMs ?? 180_000;
  }

  /** Run `command` in the pod with `stdin` as its input, in an exec started earlier when there is one. */
  async run(target: ExecTarget, command: string[], stdin: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<ExecResult> {
    const key = JSON.stringify([target.namespace, target.pod, target.container, command]);
    let w = this.waiting.get(key);
    this.waiting.delete(key);
    clearTimeout(w?.timer);
    if (!w || w.exec.ended) w = this.start(target, command);
    w.stdin.write(stdin);
    try {
      return await awaitExec(w.exec, options);
    } finally {
      // started after this one ends, so its start does not compete with the probes
      if (!this.closed && !options.signal?.aborted) this.keep(key, target, command);
    }
  }

  /** How many execs are waiting (for tests). */
  get size(): number {
    return this.waiting.size;
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.exec.close('the grader closed');
    }
    this.waiting.clear();
  }

  private start(target: ExecTarget, command: string[]): Waiting {
    const stdin = new PassThrough();
    return { exec: startExec(this.config, target, command, stdin), stdin };
  }

  private keep(key: string, target: ExecTarget, command: string[]): void {
    if (this.waiting.has(key)) return;
    const w = this.start(target, command);
    this.waiting.set(key, w);
    w.timer = setTimeout(() => w.exec.close('unused for too long'), this.idleMs);
    w.timer.unref();
    // a pod that stops ends its waiting exec (and so does the idle limit): forget it, the next run starts afresh
    void w.exec.done
      .catch(() => {})
      .finally(() => {
        clearTimeout(w.timer);
        if (this.waiting.get(key) === w) this.waiting.delete(key);
      });
  }
}
