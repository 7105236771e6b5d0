// The API host's TLS identity: a self-signed certificate for 127.0.0.1 and localhost, made at
// start-up with the openssl command (Node cannot issue X.509 certificates by itself). Go's TLS
// checks subjectAltName only, so both SANs are required.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServingCertificate {
  /** PEM certificate (also the CA clients trust: it signs itself) */
  cert: string;
  /** PEM private key */
  key: string;
}

export async function createServingCertificate(hosts: { ips: string[]; dns: string[] } = { ips: ['127.0.0.1'], dns: ['localhost'] }): Promise<ServingCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'kubelab-cert-'));
  try {
    const san = [...hosts.ips.map((ip) => `IP:${ip}`), ...hosts.dns.map((d) => `DNS:${d}`)].join(',');
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    try {
      await run('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', keyPath, '-out', certPath, '-days', '825', '-subj', '/CN=kubelab-apiserver',
        '-addext', `subjectAltName=${san}`,
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,digitalSignature,keyCertSign',
        '-addext', 'extendedKeyUsage=serverAuth',
      ]);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') throw new Error('the embedded API server needs the openssl command to make its TLS certificate (apt-get install openssl)');
      throw new Error(`openssl could not make the API server certificate: ${e.stderr?.trim() || e.message}`);
    }
    return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
