// The state shared by the fake kind and fake docker: which "kind clusters" exist (each one a real
// embedded cluster, `kubelab cluster up`, running in the background) and a log of every call.
//
// Everything lives under $FAKE_KIND_STATE:
//   calls.jsonl          one line per call: {tool, argv, stdin, start, end, code, pid}
//   clusters/<name>.json {name, pid, kubeconfig, cni, image, config, createdAt}
//   clusters/<name>.log  the embedded cluster's output
//   clusters/<node>.routes  local routes `docker exec <node> ip route ...` gave the node
//   pulled               images `docker pull` fetched, one per line
import { appendFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function stateDir() {
  const dir = process.env.FAKE_KIND_STATE;
  if (!dir) {
    process.stderr.write('fake kind: FAKE_KIND_STATE is not set\n');
    process.exit(2);
  }
  mkdirSync(join(dir, 'clusters'), { recursive: true });
  return dir;
}

export function readStdin() {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}

/** Log the call when the process ends, with its exit code. */
export function recordCall(tool, argv, stdin) {
  const dir = stateDir();
  const start = Date.now();
  const entry = { tool, argv, stdin: stdin || undefined, start, end: 0, code: 0, pid: process.pid };
  process.on('exit', (code) => {
    entry.end = Date.now();
    entry.code = code;
    appendFileSync(join(dir, 'calls.jsonl'), JSON.stringify(entry) + '\n');
  });
}

export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

export function clusterRecordPath(name) {
  return join(stateDir(), 'clusters', `${name}.json`);
}

export function readCluster(name) {
  try {
    return JSON.parse(readFileSync(clusterRecordPath(name), 'utf8'));
  } catch {
    return undefined;
  }
}

export function writeCluster(record) {
  writeFileSync(clusterRecordPath(record.name), JSON.stringify(record, null, 2));
}

export function removeCluster(name) {
  rmSync(clusterRecordPath(name), { force: true });
  // a deleted node takes its routes with it
  rmSync(join(stateDir(), 'clusters', `${name}-control-plane.routes`), { force: true });
}

/** Clusters whose embedded API process still runs (a dead one is as gone as a removed container). */
export function liveClusters() {
  const out = [];
  for (const f of readdirSync(join(stateDir(), 'clusters'))) {
    if (!f.endsWith('.json')) continue;
    const rec = readCluster(f.slice(0, -5));
    if (rec && alive(rec.pid)) out.push(rec);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export const DOCKER_DOWN =
  'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';

export function dockerDown() {
  return process.env.FAKE_DOCKER_DOWN === '1';
}

export async function sleep(ms) {
  await new Promise((r) => setTimeout(r, ms));
}

/** Stop a cluster's process group: SIGTERM (the embedded cluster cleans up), SIGKILL after 15 s. */
export async function stopProcessGroup(pid) {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
  }
  for (let i = 0; i < 150 && alive(pid); i++) await sleep(100);
  if (alive(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
