// One self-signed certificate for every external host that answers TLS. A client without -k
// fails verification exactly as against any self-signed server; with -k it talks real TLS.
// Made once per process, asynchronously (openssl must never block the event loop that serves
// every cluster's listeners and DNS).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Certificate {
  key: string;
  cert: string;
}

let pending: Promise<Certificate> | undefined;

export function selfSignedCertificate(): Promise<Certificate> {
  pending ??= make().catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

async function make(): Promise<Certificate> {
  const dir = await mkdtemp(join(tmpdir(), 'kubelab-tls-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    await new Promise<void>((resolve, reject) => {
      execFile(
        'openssl',
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '825', '-subj', '/CN=kubelab external host'],
        { timeout: 60_000 },
        (err, _stdout, stderr) => (err ? reject(new Error(`openssl could not create a certificate: ${String(stderr).trim() || err.message}`)) : resolve()),
      );
    });
    return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
