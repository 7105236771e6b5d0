// One conformance suite for every data plane: the public NetworkPolicy truth tables and the
// lesson's scenarios, observed through real probes and compared with the policy engine.
// conformance-netns.test.ts and conformance-sim.test.ts run it, one plane per file so the two
// run side by side.
import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { planes, ownNamespaces, leftoverNamespaces, createApiHost } from './harness.ts';
import type { ApiHost } from '../../server/apiserver/index.ts';
import { loadCases, runCase } from './netpol-cases.ts';
import { lessonScenarios } from './lesson-scenarios.ts';

export interface ConformanceOptions {
  /** run every n-th public case only (the rest are reported as skipped); 1 = all */
  every?: number;
  /** cases run at once, each on its own cluster (most of a case is waiting out probe timeouts) */
  concurrency?: number;
}

export function conformanceSuite(planeName: 'netns' | 'sim', options: ConformanceOptions = {}): void {
  const plane = planes().find((p) => p.name === planeName)!;
  const cases = loadCases();
  const onlyCase = process.env.KUBELAB_CONFORMANCE_CASE;
  const every = process.env.KUBELAB_CONFORMANCE_FULL === '1' ? 1 : Math.max(1, options.every ?? 1);

  describe(`data plane: ${plane.name}`, { skip: plane.skip, concurrency: options.concurrency ?? 1 }, () => {
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
      const sampledOut = !onlyCase && i % every !== 0;
      const skip = sampledOut ? `on ${plane.name} every ${every}th public case runs (KUBELAB_CONFORMANCE_FULL=1 runs all)` : undefined;
      test(c.name ?? `case ${i}`, { skip }, async (t) => {
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
