// process.args, process.env and process.cwd (core/oci/spec-process.ts).

import assert from 'node:assert/strict';
import { assertInvalid, build } from '../support/spec-fixtures';

describe('buildContainerSpec: command', () => {
  const image = { Entrypoint: ['/entry.sh', '--flag'], Cmd: ['serve', '--port=80'] };

  it('runs the image Entrypoint then Cmd when the CRI gives neither', () => {
    assert.deepEqual(build({ image }).process.args, ['/entry.sh', '--flag', 'serve', '--port=80']);
  });

  it('runs the image Cmd alone when the image has no Entrypoint', () => {
    assert.deepEqual(build().process.args, ['sh']);
  });

  it('lets CRI command override the Entrypoint, and then ignores the image Cmd', () => {
    assert.deepEqual(build({ image, config: { command: ['sleep'] } }).process.args, ['sleep']);
  });

  it('runs CRI command with CRI args', () => {
    assert.deepEqual(build({ image, config: { command: ['sleep'], args: ['3600'] } }).process.args, ['sleep', '3600']);
  });

  it('runs the image Entrypoint with CRI args when the CRI gives only args', () => {
    assert.deepEqual(build({ image, config: { args: ['debug'] } }).process.args, ['/entry.sh', '--flag', 'debug']);
    assert.deepEqual(build({ config: { args: ['echo', 'hi'] } }).process.args, ['echo', 'hi']);
  });

  it('treats an image Entrypoint of [""] as no entrypoint', () => {
    assert.deepEqual(build({ image: { Entrypoint: [''], Cmd: ['sh'] } }).process.args, ['sh']);
  });

  it('rejects a container with nothing to run', () => {
    assertInvalid(
      { image: { Entrypoint: null, Cmd: null } },
      'container "web": no command to run: neither the container config nor image docker.io/library/busybox:latest gives one',
    );
  });
});

describe('buildContainerSpec: environment and working directory', () => {
  it('puts HOSTNAME first, then the image env, with CRI envs overriding by key and new ones appended', () => {
    const env = build({
      image: { Env: ['PATH=/bin', 'LANG=C', 'EMPTY=', 'BARE'] },
      config: {
        envs: [
          { key: 'LANG', value: 'en_US.UTF-8' },
          { key: 'NEW', value: 'a=b' },
          { key: 'BARE', value: 'now-set' },
        ],
      },
    }).process.env;
    assert.deepEqual(env, ['HOSTNAME=web-pod', 'PATH=/bin', 'LANG=en_US.UTF-8', 'EMPTY=', 'BARE=now-set', 'NEW=a=b']);
  });

  it('adds the default PATH when neither the image nor the CRI sets one', () => {
    const env = build({ image: { Env: ['A=1'] } }).process.env;
    assert.deepEqual(env, ['HOSTNAME=web-pod', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1']);
    assert.deepEqual(build({ image: { Env: undefined } }).process.env, [
      'HOSTNAME=web-pod',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ]);
  });

  it('lets a CRI PATH or HOSTNAME override in place', () => {
    const env = build({
      config: {
        envs: [
          { key: 'PATH', value: '/opt/bin' },
          { key: 'HOSTNAME', value: 'custom' },
        ],
      },
    }).process.env;
    assert.deepEqual(env, ['HOSTNAME=custom', 'PATH=/opt/bin']);
  });

  it('uses the CRI working_dir, else the image WorkingDir, else /', () => {
    assert.equal(build({ image: { WorkingDir: '/srv' }, config: { working_dir: '/app' } }).process.cwd, '/app');
    assert.equal(build({ image: { WorkingDir: '/srv' } }).process.cwd, '/srv');
    assert.equal(build().process.cwd, '/');
  });

  it('rejects a relative working directory', () => {
    assertInvalid({ config: { working_dir: 'app' } }, 'container "web": working directory "app" is not an absolute path');
    assertInvalid({ image: { WorkingDir: 'srv' } }, 'container "web": working directory "srv" is not an absolute path');
  });
});
