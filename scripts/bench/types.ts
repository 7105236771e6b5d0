// One measured figure. Benchmarks print these; tests never assert them.
export interface BenchResult {
  name: string;
  /** the median (or the single measurement when there is no sample set) */
  value: number;
  unit: string;
  /** the goal as people read it, e.g. "≤ 0.5 s p50" */
  goal?: string;
  /** raw samples behind `value` (median unless the name says otherwise) */
  samples?: number[];
  /**
   * The 95th-percentile figure. When absent the runner takes it from `samples`; a suite sets it
   * itself when the slow tail is the low end (rates) or the samples are not the figure's unit.
   */
  p95?: number;
  /** a note printed under the table (how it was measured, why a figure is missing) */
  note?: string;
}

/** Median and 95th percentile of a sample set. */
export function summarize(samples: number[]): { median: number; p95: number } {
  const s = [...samples].sort((a, b) => a - b);
  if (s.length === 0) return { median: NaN, p95: NaN };
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return { median: at(0.5), p95: at(0.95) };
}

/** The q-quantile (0..1) of a sample set, nearest-rank. */
export function quantile(samples: number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
