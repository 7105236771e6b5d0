// Builds the browser bundle with esbuild: web/main.ts (and the CSS it imports) plus
// web/index.html into an output directory that is the only thing served statically.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const webSource = fileURLToPath(new URL('../../web/', import.meta.url));

/** Build into `outDir`; returns the milliseconds it took. */
export async function buildWebBundle(outDir: string, opts: { minify?: boolean } = {}): Promise<number> {
  const started = Date.now();
  mkdirSync(outDir, { recursive: true });
  await esbuild.build({
    entryPoints: { app: join(webSource, 'main.ts') },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    outdir: outDir,
    minify: opts.minify ?? true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
    loader: { '.woff2': 'file', '.svg': 'file' },
  });
  copyFileSync(join(webSource, 'index.html'), join(outDir, 'index.html'));
  copyFileSync(join(webSource, 'favicon.svg'), join(outDir, 'favicon.svg'));
  return Date.now() - started;
}
