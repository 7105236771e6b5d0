// The server end of the sim plane's tool shims: one unix socket per cluster; each exec gets its
// own secret token, which names the pod the tool runs in. A tool runs until it finishes or the
// shim goes away (the learner pressed ^C), whichever comes first.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { ToolIO } from './tools/common.ts';
import { SIM_TOOLS } from './tools/index.ts';
import type { SimNetwork } from './network.ts';

interface Request {
  token: string;
  tool: string;
  args: string[];
  stdoutIsTTY: boolean;
  stdinIsTTY: boolean;
}

export class ShimServer {
  private readonly tokens = new Map<string, string>();
  private readonly server: net.Server;
  private readonly active = new Set<net.Socket>();

  private constructor(readonly socketPath: string, private readonly network: () => SimNetwork) {
    this.server = net.createServer((sock) => this.serve(sock));
  }

  static async listen(socketPath: string, network: () => SimNetwork): Promise<ShimServer> {
    rmSync(socketPath, { force: true });
    const s = new ShimServer(socketPath, network);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(socketPath, () => resolve());
    });
    return s;
  }

  /** A secret for one exec in one pod; revoke it when the exec ends. */
  issue(pod: string): string {
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, pod);
    return token;
  }

  revoke(token: string): void {
    this.tokens.delete(token);
  }

  private serve(sock: net.Socket): void {
    this.active.add(sock);
    sock.on('close', () => this.active.delete(sock));
    sock.on('error', () => {});
    let buffered = '';
    let request: Request | undefined;
    const stdinChunks: Buffer[] = [];
    let stdinDone: ((b: Buffer) => void) | undefined;
    let stdinPromise: Promise<Buffer> | undefined;
    let closed = false;
    const wakers = new Set<() => void>();
    sock.on('close', () => {
      closed = true;
      for (const w of wakers) w();
      stdinDone?.(Buffer.concat(stdinChunks));
    });
    const send = (frame: object) => {
      if (!closed) sock.write(JSON.stringify(frame) + '\n');
    };
    sock.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let frame: Record<string, unknown>;
        try {
          frame = JSON.parse(line) as Record<string, unknown>;
        } catch {
          sock.destroy();
          return;
        }
        if (!request) {
          request = frame as unknown as Request;
          void this.run(request, send, {
            sleep: (ms) =>
              new Promise<void>((resolve) => {
                if (closed) return resolve();
                const t = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
                function done() {
                  clearTimeout(t);
                  wakers.delete(done);
                  resolve();
                }
                wakers.add(done);
              }),
            readStdin: () => {
              if (request?.stdinIsTTY) return Promise.resolve(Buffer.alloc(0));
              stdinPromise ??= new Promise<Buffer>((resolve) => {
                stdinDone = resolve;
                send({ in: true });
              });
              return stdinPromise;
            },
            isClosed: () => closed,
          });
        } else if (typeof frame.i === 'string') {
          stdinChunks.push(Buffer.from(frame.i, 'base64'));
        } else if (frame.ie) {
          stdinDone?.(Buffer.concat(stdinChunks));
        }
      }
    });
  }

  private async run(
    req: Request,
    send: (frame: object) => void,
    io: { sleep(ms: number): Promise<void>; readStdin(): Promise<Buffer>; isClosed(): boolean },
  ): Promise<void> {
    const pod = typeof req.token === 'string' ? this.tokens.get(req.token) : undefined;
    const tool = typeof req.tool === 'string' ? SIM_TOOLS[req.tool] : undefined;
    if (!pod || !tool || !Array.isArray(req.args)) {
      send({ e: Buffer.from(`${String(req.tool)}: not allowed\n`).toString('base64') });
      send({ x: 126 });
      return;
    }
    const toolIO: ToolIO = {
      stdout: (d) => send({ o: Buffer.from(d).toString('base64') }),
      stderr: (d) => send({ e: Buffer.from(d).toString('base64') }),
      sleep: io.sleep,
      readStdin: io.readStdin,
      stdoutIsTTY: req.stdoutIsTTY === true,
      now: () => new Date(),
    };
    let code: number;
    try {
      code = await tool(req.args.map(String), { net: this.network(), src: pod, io: toolIO });
    } catch (err) {
      toolIO.stderr(`${req.tool}: ${err instanceof Error ? err.message : String(err)}\n`);
      code = 1;
    }
    if (!io.isClosed()) send({ x: code });
  }

  close(): Promise<void> {
    for (const s of this.active) s.destroy();
    return new Promise((resolve) => this.server.close(() => {
      rmSync(this.socketPath, { force: true });
      resolve();
    }));
  }
}
