import { describeError } from '../errors';
import type { Logger } from '../log/logger';

/**
 * The rollback list of a multi-step operation: each step that made something pushes how to
 * unmake it; on failure they run last-first, each in its own try, so one failing undo does not
 * leave the rest undone.
 */
export class Undo {
  private readonly steps: (() => unknown)[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  push(step: () => unknown): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        this.logger.error(`rolling back ${this.what}: ${describeError(error)}`);
      }
    }
  }
}
