import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseRuntime, netnsUnavailable } from './index.ts';

test('chooseRuntime: netns where it can run, the environment overrides, bad values are named', async () => {
  const saved = process.env.KUBELAB_DATAPLANE;
  try {
    delete process.env.KUBELAB_DATAPLANE;
    const why = netnsUnavailable();
    const auto = await chooseRuntime();
    assert.equal(auto.name, why ? 'sim' : 'netns');
    if (why) assert.match(auto.reason, new RegExp(`netns unavailable \\(${why.replace(/[()[\]`.*+?^$|\\]/g, '\\$&')}\\)`));
    assert.equal((await chooseRuntime({ prefer: 'sim' })).name, 'sim');
    process.env.KUBELAB_DATAPLANE = 'sim';
    const forced = await chooseRuntime({ prefer: 'netns' });
    assert.equal(forced.name, 'sim');
    assert.match(forced.reason, /KUBELAB_DATAPLANE/);
    process.env.KUBELAB_DATAPLANE = 'bogus';
    await assert.rejects(chooseRuntime(), /KUBELAB_DATAPLANE: unsupported value "bogus": supported values: "netns", "sim", "process"/);
    if (why) {
      process.env.KUBELAB_DATAPLANE = 'netns';
      await assert.rejects(chooseRuntime(), /cannot run here/);
    }
  } finally {
    if (saved === undefined) delete process.env.KUBELAB_DATAPLANE;
    else process.env.KUBELAB_DATAPLANE = saved;
  }
});
