// The upstream e2e truth tables (kubernetes test/e2e/network/netpol, translated into
// testdata/e2e-public.json): every probe's expected verdict, compared as whole rendered grids so
// a failure shows the full expected and observed tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readCase, type Probe } from './cases.ts';
import { PolicyEngine } from './engine.ts';
import { renderMatrix } from './matrix.ts';
import type { PortProtocol, ReachabilityGrid, Verdict } from './types.ts';

const cases = JSON.parse(readFileSync(new URL('./testdata/e2e-public.json', import.meta.url), 'utf8')) as Array<{ name: string }>;

const label = (e: Probe['from']) => ('pod' in e ? e.pod : e.ip);

/** A grid over the probed pairs only; pairs nobody probed print `?`. */
function gridOf(probes: Probe[], verdictOf: (p: Probe) => Verdict | undefined): ReachabilityGrid {
  const sources = [...new Set(probes.map((p) => label(p.from)))];
  const destinations = [...new Set(probes.map((p) => label(p.to)))];
  const ports: PortProtocol[] = [];
  for (const p of probes) if (!ports.some((x) => x.port === p.port && x.protocol === p.protocol)) ports.push({ port: p.port, protocol: p.protocol });
  return {
    sources,
    destinations,
    tables: ports.map((pp) => ({
      ...pp,
      cells: sources.map((s) =>
        destinations.map((d) => {
          const probe = probes.find((p) => label(p.from) === s && label(p.to) === d && p.port === pp.port && p.protocol === pp.protocol);
          return probe ? (verdictOf(probe) ?? null) : null;
        }),
      ),
    })),
  };
}

test('the public set has 29 cases', () => assert.equal(cases.length, 29));

for (const raw of cases) {
  test(raw.name, () => {
    const c = readCase(raw);
    const engine = new PolicyEngine(c.cluster, c.policies);
    const expected = renderMatrix(gridOf(c.probes, (p) => p.expect));
    const observed = renderMatrix(gridOf(c.probes, (p) => engine.evaluate(p).verdict));
    assert.equal(observed, expected, `expected:\n${expected}\nobserved:\n${observed}`);
    // The fast path must agree with the explained one.
    for (const p of c.probes) assert.equal(engine.verdict(p), engine.evaluate(p).verdict);
  });
}
