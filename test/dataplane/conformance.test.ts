// One conformance suite, every data plane (netns where this host allows it, sim everywhere):
// the public NetworkPolicy truth tables and the lesson's scenarios, observed through real probes.
import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { planes, ownNamespaces, leftoverNamespaces, createApiHost } from './harness.ts';
import type { ApiHost } from '../../server/apiserver/index.ts';
import { loadCases, runCase } from './netpol-cases.ts';
import { lessonScenarios } from './lesson-scenarios.ts';

const cases = loadCases();
const onlyCase = process.env.KUBELAB_CONFORMANCE_CASE;

for (const plane of planes()) {
  describe(`data plane: ${plane.name}`, { skip: plane.skip }, () => {
    const runtime = plane.skip ? undefined : plane.make();
    const tags = new Set<string>();
    let host: ApiHost | undefined;
    before(async () => {
      await runtime?.reapLeftovers();
      host = await createApiHost({ onError: () => {} });
    });
    after(async () => {
      await host?.close();
      if (plane.name !== 'netns') return;
      // Every namespace this process made for its clusters is gone once they are disposed.
      assert.deepEqual(leftoverNamespaces([...tags]), []);
      assert.deepEqual(ownNamespaces().namespaces, []);
    });
    cases.forEach((c, i) => {
      if (onlyCase && !(c.name ?? '').includes(onlyCase)) return;
      test(c.name ?? `case ${i}`, async (t) => {
        const timer = setInterval(() => ownNamespaces().tags.forEach((x) => tags.add(x)), 50);
        try {
          const run = await runCase(runtime!, c, i, host);
          for (const s of run.skipped) t.diagnostic(`skipped ${s}`);
          if (run.probes === 0) return t.skip(`every probe of this case was skipped (${run.skipped[0]?.split(': ').pop()})`);
          assert.ok(run.probes > 0, 'no probe ran');
          assert.deepEqual(run.mismatches, [], `${run.mismatches.length} of ${run.probes} probes disagree with the engine`);
        } finally {
          clearInterval(timer);
        }
      });
    });
    for (const scenario of lessonScenarios) {
      if (onlyCase && !scenario.name.includes(onlyCase)) continue;
      test(`lesson: ${scenario.name}`, async () => {
        const timer = setInterval(() => ownNamespaces().tags.forEach((x) => tags.add(x)), 50);
        try {
          await scenario.run(runtime!, host);
        } finally {
          clearInterval(timer);
        }
      });
    }
  });
}
