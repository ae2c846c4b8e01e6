import * as fs from 'node:fs';
import * as path from 'node:path';
import { FailedPreconditionError } from '../errors';

// The pidfile keeps two daemons off one state: a pidfile naming a live process stops the second
// daemon; one naming a dead process is stale and replaced.

export class Pidfile {
  private held = false;

  constructor(readonly file: string) {}

  acquire(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const holder = this.livingHolder();
    if (holder !== undefined) {
      throw new FailedPreconditionError(
        `pidfile ${this.file} is held by running process ${holder}; another caissond is using this configuration (stop it, or give this one another "pidfile")`,
      );
    }
    const temporary = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, `${process.pid}\n`, { mode: 0o644 });
    fs.renameSync(temporary, this.file);
    this.held = true;
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    if (this.livingHolder() === process.pid) fs.rmSync(this.file, { force: true });
  }

  private livingHolder(): number | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8').trim();
    } catch {
      return undefined;
    }
    const pid = Number(text);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    if (pid === process.pid) return pid;
    try {
      process.kill(pid, 0);
      return pid;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
    }
  }
}
