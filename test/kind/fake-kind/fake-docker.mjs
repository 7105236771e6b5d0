#!/usr/bin/env node
// A fake `docker` with just what the kind backend calls: `info`, `image inspect`, `pull`, and
// `exec` into a node container (recorded, not run: the fake's nodes are embedded clusters). Of
// what runs in a node, `ip route replace|del local <cidr> dev lo table local` is kept in the
// node's route list (clusters/<node>.routes), and deleting a route the node lacks fails as ip does.
//
// Faults, from the environment:
//   FAKE_DOCKER_DOWN=1                    the daemon does not answer
//   FAKE_DOCKER_MISSING_IMAGES=a,b        images not on the host until pulled
//   FAKE_DOCKER_PULL_FAIL=1               pulls fail (an offline host)
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DOCKER_DOWN, alive, dockerDown, readCluster, readStdin, recordCall, stateDir } from './world.mjs';

const argv = process.argv.slice(2);

function pulled() {
  const file = join(stateDir(), 'pulled');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

function present(image) {
  const missing = (process.env.FAKE_DOCKER_MISSING_IMAGES ?? '').split(',').filter(Boolean);
  return !missing.includes(image) || pulled().includes(image);
}

/** `ip route replace|del local CIDR dev lo table local` on a node: kept in its route list. */
function localRoute(node, command) {
  const m = /^ip route (replace|del) local (\S+) dev lo table local$/.exec(command.join(' '));
  if (!m) return;
  const file = join(stateDir(), 'clusters', `${node}.routes`);
  const routes = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  const [, action, cidr] = m;
  if (action === 'del' && !routes.includes(cidr)) {
    process.stderr.write('RTNETLINK answers: No such process\n');
    process.exit(2);
  }
  const next = action === 'del' ? routes.filter((r) => r !== cidr) : [...new Set([...routes, cidr])];
  writeFileSync(file, next.map((r) => `${r}\n`).join(''));
}

function main() {
  const stdin = argv[0] === 'exec' && argv.includes('-i') ? readStdin() : '';
  recordCall('docker', argv, stdin);
  if (dockerDown()) {
    process.stderr.write(`${DOCKER_DOWN}\n`);
    process.exit(1);
  }
  const [a, b] = argv;
  if (a === 'info') {
    process.stdout.write('28.2.2\n');
    return;
  }
  if (a === 'image' && b === 'inspect') {
    const image = argv[argv.length - 1];
    if (!present(image)) {
      process.stdout.write('[]\n');
      process.stderr.write(`Error response from daemon: No such image: ${image}\n`);
      process.exit(1);
    }
    process.stdout.write(`sha256:${createHash('sha256').update(image).digest('hex')}\n`);
    return;
  }
  if (a === 'pull') {
    const image = argv[1];
    if (process.env.FAKE_DOCKER_PULL_FAIL === '1') {
      process.stderr.write(`Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host\n`);
      process.exit(1);
    }
    appendFileSync(join(stateDir(), 'pulled'), `${image}\n`);
    process.stdout.write(`${image.split(':')[1] ?? 'latest'}: Pulling from ${image.split(':')[0]}\nStatus: Downloaded newer image for ${image}\n`);
    return;
  }
  if (a === 'exec') {
    const args = argv.slice(1).filter((x) => x !== '-i');
    const node = args[0];
    const cluster = node?.replace(/-(control-plane|worker\d*)$/, '');
    const rec = cluster ? readCluster(cluster) : undefined;
    if (!rec || !alive(rec.pid)) {
      process.stderr.write(`Error response from daemon: No such container: ${node}\n`);
      process.exit(1);
    }
    localRoute(node, args.slice(1));
    return;
  }
  process.stderr.write(`fake docker: "${argv.join(' ')}" is not implemented\n`);
  process.exit(1);
}

main();
