import * as fs from 'node:fs';
import * as path from 'node:path';
import { ResourceExhaustedError } from 'caisson/plugin';
import { lowestFreeAddress, subnetContains, type Subnet } from './subnet';

// Which pod holds which address, in one JSON file under the daemon's state directory, so a
// restarted daemon neither hands out an address a running pod still has nor forgets to free one.
// Every method reads and writes the file synchronously: Node runs no other JavaScript meanwhile,
// so two pods set up at once can never be given the same address.

interface BookFile {
  /** Sandbox ID → address. */
  readonly pods: Record<string, string>;
}

export class AddressBook {
  constructor(private readonly file: string) {}

  /** The pod's address: the one it already holds in this subnet (a retry), or the lowest free one, recorded before it is returned. */
  assign(sandboxId: string, subnet: Subnet): string {
    const pods = this.read();
    const held = pods[sandboxId];
    if (held !== undefined && subnetContains(subnet, held)) return held;
    const address = lowestFreeAddress(subnet, new Set(Object.values(pods)));
    if (address === undefined) {
      throw new ResourceExhaustedError(`dummy: every address of ${subnet.text} is held by a pod (${Object.keys(pods).length} pods); remove pods or give "subnet" a shorter prefix`);
    }
    this.write({ ...pods, [sandboxId]: address });
    return address;
  }

  addressOf(sandboxId: string): string | undefined {
    return this.read()[sandboxId];
  }

  /** Frees the pod's address; answers what it was (undefined when it held none: safe to repeat). */
  release(sandboxId: string): string | undefined {
    const pods = this.read();
    const address = pods[sandboxId];
    if (address === undefined) return undefined;
    const { [sandboxId]: _released, ...rest } = pods;
    this.write(rest);
    return address;
  }

  private read(): Record<string, string> {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    const parsed = JSON.parse(text) as Partial<BookFile>;
    return { ...(parsed.pods ?? {}) };
  }

  /** Written to a temporary file and renamed over the old one, so a crash leaves one or the other whole. */
  private write(pods: Record<string, string>): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.tmp`;
    fs.writeFileSync(temporary, `${JSON.stringify({ pods } satisfies BookFile, null, 2)}\n`);
    fs.renameSync(temporary, this.file);
  }
}
