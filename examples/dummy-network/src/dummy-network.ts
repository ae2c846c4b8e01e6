import * as fs from 'node:fs';
import { describeError, findExecutable, runProgram } from 'caisson/plugin';
import type { Logger, NetworkPlugin, PodNetworkRequest, ProgramResult, Readiness } from 'caisson/plugin';
import type { AddressBook } from './address-book';
import type { Subnet } from './subnet';

// network.dummy's NetworkPlugin: each pod gets a `dummy` link (or `ifb`, see LINK_TYPES) named
// eth0 in its own network namespace, with the pod's address on it. Such a link has no peer, so
// nothing the pod sends leaves its namespace: the pod has an address to report and to bind to,
// and no route out.

const LINK = 'eth0';

/** Link kinds without a peer: what is sent through them is dropped. */
export const LINK_TYPES = ['dummy', 'ifb'] as const;
export type LinkType = (typeof LINK_TYPES)[number];
const IP_TIMEOUT_MS = 10_000;

export interface DummyNetworkOptions {
  readonly subnet: Subnet;
  readonly linkType: LinkType;
  readonly book: AddressBook;
  readonly logger: Logger;
}

export class DummyNetwork implements NetworkPlugin {
  readonly name = 'dummy';

  constructor(private readonly options: DummyNetworkOptions) {}

  /** Ready when the two programs it runs are on PATH. */
  async status(): Promise<Readiness> {
    const missing = ['ip', 'nsenter'].filter((program) => findExecutable(program) === undefined);
    if (missing.length > 0) {
      return { ready: false, reason: 'NetworkPluginNotReady', message: `dummy: ${missing.join(' and ')} not found on PATH` };
    }
    return { ready: true, reason: '', message: '' };
  }

  async setUpPod(pod: PodNetworkRequest): Promise<{ readonly ips: readonly string[] }> {
    const { subnet, linkType, book, logger } = this.options;
    const address = book.assign(pod.sandboxId, subnet);
    let linkAdded = false;
    try {
      await this.ip(pod, ['link', 'add', LINK, 'type', linkType]);
      linkAdded = true;
      await this.ip(pod, ['addr', 'add', `${address}/${subnet.prefix}`, 'dev', LINK]);
      await this.ip(pod, ['link', 'set', LINK, 'up']);
    } catch (error) {
      // Undo only what this call made, so a failed set-up leaves neither a link nor a held address.
      if (linkAdded) {
        await this.ip(pod, ['link', 'del', LINK]).catch((undoError: unknown) => logger.warn(`dummy: ${LINK} of sandbox ${pod.sandboxId} was not removed: ${describeError(undoError)}`));
      }
      book.release(pod.sandboxId);
      const unknownType = !linkAdded && /Unknown device type/.test(describeError(error));
      const others = LINK_TYPES.filter((type) => type !== linkType).map((type) => `"${type}"`).join(' or ');
      const hint = unknownType ? ` (this kernel makes no ${linkType} links: set "linkType" to ${others} in "plugin-config"."network.dummy")` : '';
      throw new Error(`dummy: cannot wire pod ${pod.namespace}/${pod.name} with ${address}/${subnet.prefix}: ${describeError(error)}${hint}`, { cause: error });
    }
    logger.info(`pod ${pod.namespace}/${pod.name} has ${address}/${subnet.prefix} on ${LINK}`, { sandbox: pod.sandboxId });
    return { ips: [address] };
  }

  /** Removes the link (gone already with the namespace, or never made: fine) and frees the address. */
  async tearDownPod(pod: PodNetworkRequest): Promise<void> {
    if (fs.existsSync(pod.netnsPath)) {
      await this.ip(pod, ['link', 'del', LINK]).catch((error: unknown) => {
        // The link dies with the namespace anyway; an address must not stay held because of it.
        if (!/Cannot find device/.test(describeError(error))) {
          this.options.logger.warn(`dummy: ${LINK} of sandbox ${pod.sandboxId} was not removed: ${describeError(error)}`);
        }
      });
    }
    const released = this.options.book.release(pod.sandboxId);
    if (released !== undefined) this.options.logger.info(`pod ${pod.namespace}/${pod.name} released ${released}`, { sandbox: pod.sandboxId });
  }

  /** What the pod's namespace has on eth0, checked against the address it was given. */
  async checkPod(pod: PodNetworkRequest): Promise<string> {
    const { subnet, book } = this.options;
    const expected = book.addressOf(pod.sandboxId);
    if (expected === undefined) throw new Error(`dummy: sandbox ${pod.sandboxId} holds no address`);
    const { stdout } = await this.ip(pod, ['-o', '-4', 'addr', 'show', 'dev', LINK]);
    const seen = /\binet (\S+)/.exec(stdout)?.[1];
    if (seen !== `${expected}/${subnet.prefix}`) {
      throw new Error(`dummy: ${LINK} of sandbox ${pod.sandboxId} has ${seen ?? 'no IPv4 address'}; expected ${expected}/${subnet.prefix}`);
    }
    return `${LINK} ${seen} (${this.options.linkType} link)`;
  }

  /** `ip` run inside the pod's network namespace. */
  private ip(pod: PodNetworkRequest, args: readonly string[]): Promise<ProgramResult> {
    return runProgram('nsenter', [`--net=${pod.netnsPath}`, 'ip', ...args], { timeoutMs: IP_TIMEOUT_MS });
  }
}
