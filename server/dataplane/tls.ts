// One self-signed certificate for every external host that answers TLS. A client without -k
// fails verification exactly as against any self-signed server; with -k it talks real TLS.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let cached: { key: string; cert: string } | undefined;

export function selfSignedCertificate(): { key: string; cert: string } {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-tls-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const r = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '825', '-subj', '/CN=kubelab external host',
    ], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
    if (r.status !== 0) throw new Error(`openssl could not create a certificate: ${r.stderr?.toString().trim() || r.error?.message}`);
    cached = { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
