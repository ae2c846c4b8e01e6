import assert from 'node:assert/strict';
import type { OciProcess } from '../../core/oci/oci-spec';
import { DEFAULT_TERMINAL_SIZE, isUsableTerminalSize, ttyProcessSpec } from '../../core/streaming/tty-process-spec';

const containerProcess: OciProcess = {
  terminal: false,
  user: { uid: 0, gid: 0, additionalGids: [] },
  args: ['sh'],
  env: ['PATH=/usr/bin:/bin', 'HOME=/root'],
  cwd: '/',
  capabilities: { bounding: [], effective: [], permitted: [] },
  noNewPrivileges: true,
};

describe('the process of an exec with a TTY', () => {
  it('gets a terminal, TERM=xterm and the console size, and keeps the rest', () => {
    assert.deepEqual(ttyProcessSpec(containerProcess, { width: 100, height: 30 }), {
      ...containerProcess,
      terminal: true,
      env: ['PATH=/usr/bin:/bin', 'HOME=/root', 'TERM=xterm'],
      consoleSize: { height: 30, width: 100 },
    });
  });

  it("keeps the container's own TERM and does not change the process it was given", () => {
    const withTerm = { ...containerProcess, env: ['TERM=vt100', 'PATH=/bin'] };
    const spec = ttyProcessSpec(withTerm, DEFAULT_TERMINAL_SIZE);
    assert.deepEqual(spec.env, ['TERM=vt100', 'PATH=/bin']);
    assert.deepEqual(spec.consoleSize, { height: 24, width: 80 });
    assert.deepEqual(withTerm.env, ['TERM=vt100', 'PATH=/bin']);
    assert.equal(withTerm.terminal, false);
  });

  it('does not take a variable that only starts like TERM for TERM', () => {
    const spec = ttyProcessSpec({ ...containerProcess, env: ['TERMINFO=/usr/share/terminfo'] }, DEFAULT_TERMINAL_SIZE);
    assert.deepEqual(spec.env, ['TERMINFO=/usr/share/terminfo', 'TERM=xterm']);
  });

  it('resizes only to sizes a terminal can have', () => {
    assert.equal(isUsableTerminalSize({ width: 1, height: 1 }), true);
    assert.equal(isUsableTerminalSize({ width: 0, height: 24 }), false);
    assert.equal(isUsableTerminalSize({ width: 80, height: 0 }), false);
  });
});
