import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runProgram } from '../../../core/host-programs/run-program';
import type { CertFiles } from './certificates';
import { TOKEN_ISSUER, TOKEN_SERVICE, type TokenServer } from './token-server';

// The files the test registry reads at start-up: its config.yml and an htpasswd for Basic auth.

export interface RegistryConfigInput {
  readonly port: number;
  readonly storageDir: string;
  readonly tls?: CertFiles;
  readonly htpasswdPath?: string;
  readonly tokenServer?: TokenServer;
}

/** The registry's config.yml; JSON strings are valid YAML scalars, so paths need no escaping. */
export function registryConfig(input: RegistryConfigInput): string {
  const q = (value: string): string => JSON.stringify(value);
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${q(input.storageDir)}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${q(`127.0.0.1:${input.port}`)}`,
    // Without a secret the registry logs a warning and makes one up; a fixed one keeps it quiet.
    `  secret: ${q(crypto.randomBytes(16).toString('hex'))}`,
  ];
  if (input.tls) lines.push('  tls:', `    certificate: ${q(input.tls.certPath)}`, `    key: ${q(input.tls.keyPath)}`);
  if (input.htpasswdPath) lines.push('auth:', '  htpasswd:', '    realm: caisson-test-realm', `    path: ${q(input.htpasswdPath)}`);
  if (input.tokenServer) {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${q(input.tokenServer.realm)}`,
      `    service: ${q(TOKEN_SERVICE)}`,
      `    issuer: ${q(TOKEN_ISSUER)}`,
      `    rootcertbundle: ${q(input.tokenServer.signer.certPath)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function writeHtpasswd(root: string, credentials: { username: string; password: string }): Promise<string> {
  // The registry accepts bcrypt entries only.
  const { stdout } = await runProgram('htpasswd', ['-Bbn', credentials.username, credentials.password], { timeoutMs: 10_000 });
  const file = path.join(root, 'htpasswd');
  fs.writeFileSync(file, `${stdout.trim()}\n`);
  return file;
}
