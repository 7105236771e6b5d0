// One measured figure. Benchmarks print these; tests never assert them.
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** the goal as people read it, e.g. "≤ 0.5 s p50" */
  goal?: string;
  /** raw samples behind `value` (median unless the name says otherwise) */
  samples?: number[];
}

/** Median and 95th percentile of a sample set. */
export function summarize(samples: number[]): { median: number; p95: number } {
  const s = [...samples].sort((a, b) => a - b);
  if (s.length === 0) return { median: NaN, p95: NaN };
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return { median: at(0.5), p95: at(0.95) };
}
