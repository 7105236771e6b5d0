#!/usr/bin/env node
// Builds the netns helper addon with node-gyp (run by `npm ci` through the package's install
// script). Node's own headers are used when they sit next to the node binary, so no download is
// needed. A failed build does not fail the install: without the addon the server picks the `sim`
// data plane and says why. Set KUBELAB_REQUIRE_NATIVE=1 to make a failure fatal.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
if (process.platform !== 'linux') {
  console.log('kubelab native: not Linux, skipping the netns addon (the sim data plane will be used)');
  process.exit(0);
}
const prefix = dirname(dirname(process.execPath));
const env = { ...process.env };
if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;

const candidates = [
  join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  join(here, '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
];
const script = candidates.find((c) => existsSync(c));
const result = script
  ? spawnSync(process.execPath, [script, 'rebuild', '--silent'], { cwd: here, env, stdio: 'inherit' })
  : spawnSync('node-gyp', ['rebuild', '--silent'], { cwd: here, env, stdio: 'inherit' });
if (result.status === 0 && existsSync(join(here, 'build', 'Release', 'kubelab_netns.node'))) {
  console.log('kubelab native: built native/build/Release/kubelab_netns.node');
  process.exit(0);
}
const why = result.error ? result.error.message : `node-gyp exited with ${result.status}`;
console.error(`kubelab native: could not build the netns addon (${why}); the sim data plane will be used`);
process.exit(process.env.KUBELAB_REQUIRE_NATIVE === '1' ? 1 : 0);
