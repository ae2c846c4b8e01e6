import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempRoot, removeTempRoot } from '../temp-root';
import { makeSelfSignedCert } from './certificates';
import { registryConfig, writeHtpasswd } from './registry-config';
import { findFreePort, spawnRegistry, stopChild, waitUntilReady, type RegistryProcess } from './registry-process';
import { startTokenServer, type TokenAuthOptions, type TokenGrant, type TokenServer } from './token-server';

// A real distribution registry (Debian's docker-registry 2.8) for image tests, on 127.0.0.1 only,
// with its storage, config and certificates in a temporary root. It can serve HTTPS with a
// self-signed certificate, ask for htpasswd Basic auth, or ask for Bearer tokens from a small
// token server run here in-process (the flow Docker Hub, GHCR and Quay use).
//
// The pieces live beside this file (registry-process.ts, registry-config.ts, certificates.ts,
// token-server.ts); tests import the harness from here.

export { registryConfig, type RegistryConfigInput } from './registry-config';
export { parseScope, TOKEN_ISSUER, TOKEN_SERVICE, type TokenAccess, type TokenAuthOptions, type TokenGrant } from './token-server';

export interface TestRegistryOptions {
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1 (its own CA: `caCertPath`). */
  readonly tls?: boolean;
  /** The registry's own htpasswd (bcrypt) Basic auth. */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** Bearer tokens from a token server the harness runs; it grants these credentials every scope. */
  readonly tokenAuth?: TokenAuthOptions;
}

export interface TestRegistry {
  /** "127.0.0.1:PORT", as it appears in image references. */
  readonly host: string;
  /** "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT". */
  readonly url: string;
  /** The self-signed certificate to trust (tls only). */
  readonly caCertPath?: string;
  readonly storageDir: string;
  /** The file where the registry keeps a blob ("sha256:<hex>"). */
  blobPath(digest: string): string;
  /** How many tokens the token server has issued (tokenAuth only; 0 otherwise). */
  readonly tokenRequests: number;
  /** Every token the token server issued, in order (tokenAuth only; empty otherwise). */
  readonly tokenGrants: readonly TokenGrant[];
  /** "http://127.0.0.1:PORT/token", where the registry sends clients for tokens (tokenAuth only). */
  readonly tokenRealm?: string;
  /** The registry's stdout and stderr so far (for a failing test's report). */
  output(): string;
  /** Stops the registry and the token server and removes the temporary root; safe to call twice. */
  stop(): Promise<void>;
}

export async function startTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  if (options.basicAuth && options.tokenAuth) throw new Error('startTestRegistry: choose basicAuth or tokenAuth, not both');
  const root = makeTempRoot('registry');
  let tokenServer: TokenServer | undefined;
  let child: ChildProcess | undefined;
  try {
    const storageDir = path.join(root, 'storage');
    fs.mkdirSync(storageDir);
    const tls = options.tls ? await makeSelfSignedCert(root, 'tls', '/CN=127.0.0.1', ['-addext', 'subjectAltName=IP:127.0.0.1']) : undefined;
    const htpasswdPath = options.basicAuth ? await writeHtpasswd(root, options.basicAuth) : undefined;
    if (options.tokenAuth) {
      const signer = await makeSelfSignedCert(root, 'token', '/CN=caisson-test-token');
      tokenServer = await startTokenServer(signer, options.tokenAuth);
    }

    // A port taken between our probe and the registry's bind is rare but real on a busy CI box.
    let started: RegistryProcess | undefined;
    for (let attempt = 1; !started; attempt++) {
      const port = await findFreePort();
      const configPath = path.join(root, 'config.yml');
      fs.writeFileSync(configPath, registryConfig({ port, storageDir, tls, htpasswdPath, tokenServer }));
      const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
      const candidate = spawnRegistry(configPath);
      child = candidate.child;
      try {
        await waitUntilReady(candidate, url, tls?.certPath);
        started = { ...candidate, port, url };
      } catch (error) {
        await stopChild(candidate.child);
        if (attempt === 1 && candidate.output().includes('address already in use')) continue;
        throw error;
      }
    }

    const registry = started;
    const server = tokenServer;
    let stopped: Promise<void> | undefined;
    return {
      host: `127.0.0.1:${registry.port}`,
      url: registry.url,
      caCertPath: tls?.certPath,
      storageDir,
      blobPath(digest: string): string {
        const match = /^sha256:([0-9a-f]{64})$/.exec(digest);
        if (!match?.[1]) throw new Error(`not a sha256 digest: ${digest}`);
        const hex = match[1];
        return path.join(storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
      },
      get tokenRequests(): number {
        return server?.grants.length ?? 0;
      },
      get tokenGrants(): readonly TokenGrant[] {
        return [...(server?.grants ?? [])];
      },
      tokenRealm: server?.realm,
      output: registry.output,
      stop(): Promise<void> {
        stopped ??= (async () => {
          try {
            await stopChild(registry.child);
          } finally {
            await server?.close();
            removeTempRoot(root);
          }
        })();
        return stopped;
      },
    };
  } catch (error) {
    if (child) await stopChild(child);
    await tokenServer?.close();
    removeTempRoot(root);
    throw error;
  }
}

/**
 * For a describe block: start() registries that an afterEach stops (printing their logs when the
 * test failed), so no test leaves one running whatever happens to it.
 */
export function useTestRegistries(): { start(options?: TestRegistryOptions): Promise<TestRegistry> } {
  const running: TestRegistry[] = [];
  afterEach(async function () {
    const failed = this.currentTest?.state === 'failed';
    for (const registry of running.splice(0)) {
      if (failed) process.stderr.write(`--- docker-registry ${registry.url} ---\n${registry.output()}\n`);
      await registry.stop();
    }
  });
  return {
    async start(options?: TestRegistryOptions): Promise<TestRegistry> {
      const registry = await startTestRegistry(options);
      running.push(registry);
      return registry;
    },
  };
}
