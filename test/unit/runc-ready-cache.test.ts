import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuncRuntime } from '../../plugins/runc/runc-runtime';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';

// Status asks the runtime whether it is ready on every call (the kubelet: every few seconds). The
// runtime spawns `--version` only when the binary on disk is not the one that answered last.

describe('runc readiness', () => {
  let dir: string;
  beforeEach(() => (dir = makeTempRoot('runc-ready')));
  afterEach(() => removeTempRoot(dir));

  /** A stand-in runtime that counts how often it was asked. */
  const writeBinary = (version: string): string => {
    const binary = path.join(dir, 'fake-runc');
    const temporary = `${binary}.new`;
    fs.writeFileSync(temporary, `#!/bin/sh\necho x >> "${path.join(dir, 'calls')}"\necho "runc version ${version}"\n`, { mode: 0o755 });
    fs.renameSync(temporary, binary);
    return binary;
  };
  const calls = (): number => (fs.existsSync(path.join(dir, 'calls')) ? fs.readFileSync(path.join(dir, 'calls'), 'utf8').split('\n').filter(Boolean).length : 0);

  it('asks the binary once while it stays the same, and again once it is replaced or gone', async () => {
    const binary = writeBinary('1.1.5');
    const runtime = new RuncRuntime('runc', binary, [], path.join(dir, 'root'), false);
    for (let i = 0; i < 5; i += 1) assert.equal((await runtime.checkReady()).ready, true);
    assert.equal(calls(), 1);
    assert.equal(runtime.describe()['version'], 'runc version 1.1.5');

    writeBinary('1.2.0');
    assert.equal((await runtime.checkReady()).ready, true);
    assert.equal(calls(), 2, 'a replaced binary is asked again');
    assert.equal(runtime.describe()['version'], 'runc version 1.2.0');

    fs.rmSync(binary);
    const gone = await runtime.checkReady();
    assert.equal(gone.ready, false);
    assert.equal(gone.reason, 'RuntimeBinaryNotReady');
  });
});
