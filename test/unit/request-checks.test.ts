import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nulByteField } from '../../core/cri/nul-byte-field';
import { EXEC_SYNC_MAX_OUTPUT_BYTES, KUBELET_MAX_MESSAGE_BYTES, splitOutputBudget } from '../../core/containers/exec-output-budget';
import { checkHostname, podHostname } from '../../core/pods/pod-hostname';
import { waitForLogFile } from '../../core/containers/wait-for-log-file';

// The checks behind what critest found: hostnames, NUL bytes, the ExecSync output budget, the
// bounded wait for a reopened log.

describe('podHostname', () => {
  it("uses the node's hostname when the config has none, and a valid given one as is", () => {
    assert.equal(podHostname('', 'node-1'), 'node-1');
    assert.equal(podHostname('web-0.example', 'node-1'), 'web-0.example');
    assert.equal(podHostname('x'.repeat(64), 'node-1'), 'x'.repeat(64));
  });

  it('refuses a hostname that is too long, starts with - or ., or holds other characters', () => {
    assert.throws(() => checkHostname('x'.repeat(65), 'hostname'), { code: 'INVALID_ARGUMENT', message: `hostname "${'x'.repeat(65)}" is 65 bytes; a hostname has at most 64` });
    for (const bad of ['-x', '.x', 'a b', 'a\nb', 'a/b', 'ä']) {
      assert.throws(
        () => podHostname(bad, 'node'),
        (error: Error & { code?: string }) => error.code === 'INVALID_ARGUMENT' && error.message.startsWith(`hostname ${JSON.stringify(bad)} is not a valid hostname`),
      );
    }
  });
});

describe('nulByteField', () => {
  it('finds the first string, array item or map key holding a NUL, by its path', () => {
    assert.equal(nulByteField({ config: { metadata: { name: 'ok' }, args: ['a'] } }), undefined);
    assert.equal(nulByteField({ config: { args: ['a', 'b\0'] } }), 'config.args[1]');
    assert.equal(nulByteField({ config: { envs: [{ key: 'K', value: '\0' }] } }), 'config.envs[0].value');
    assert.equal(nulByteField({ labels: { 'a\0': 'b' } }), 'labels["a\\u0000"]');
    assert.equal(nulByteField({ data: Buffer.from([0, 0]) }), undefined, 'bytes fields may hold anything');
    assert.equal(nulByteField({ n: 0, flag: false, none: null }), undefined);
  });
});

describe('splitOutputBudget', () => {
  it('keeps everything that fits in 16 MiB less the framing', () => {
    assert.equal(EXEC_SYNC_MAX_OUTPUT_BYTES, KUBELET_MAX_MESSAGE_BYTES - 32);
    assert.deepEqual(splitOutputBudget(10, 20), { stdout: 10, stderr: 20 });
    assert.deepEqual(splitOutputBudget(60, 40, 100), { stdout: 60, stderr: 40 });
  });

  it('gives each stream at least half and the other what one leaves', () => {
    assert.deepEqual(splitOutputBudget(500, 5, 100), { stdout: 95, stderr: 5 });
    assert.deepEqual(splitOutputBudget(5, 500, 100), { stdout: 5, stderr: 95 });
    assert.deepEqual(splitOutputBudget(500, 500, 100), { stdout: 50, stderr: 50 });
    assert.deepEqual(splitOutputBudget(500, 500, 101), { stdout: 51, stderr: 50 });
  });
});

describe('waitForLogFile', () => {
  it('answers once the file exists, and DEADLINE_EXCEEDED naming the container when it never does', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caisson-reopen-'));
    try {
      const log = path.join(dir, 'c.log');
      setTimeout(() => fs.writeFileSync(log, ''), 50);
      await waitForLogFile('c0ffee', log, 2_000);
      await assert.rejects(waitForLogFile('c0ffee', path.join(dir, 'never.log'), 100), {
        code: 'DEADLINE_EXCEEDED',
        message: `the log of container c0ffee was not reopened at ${path.join(dir, 'never.log')} within 100 ms`,
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
