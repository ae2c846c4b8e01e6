import * as fs from 'node:fs';
import * as path from 'node:path';
import { runProgram } from '../../../core/host-programs/run-program';

// Self-signed certificates for the test registry: its HTTPS certificate for 127.0.0.1 and the
// token server's signing certificate, made with openssl in the registry's temporary root.

export interface CertFiles {
  readonly certPath: string;
  readonly keyPath: string;
}

export async function makeSelfSignedCert(root: string, name: string, subject: string, extra: readonly string[] = []): Promise<CertFiles> {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  await runProgram(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-days', '2', '-keyout', keyPath, '-out', certPath, ...extra],
    { timeoutMs: 20_000 },
  );
  return { certPath, keyPath };
}
