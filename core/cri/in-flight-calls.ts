// The unary calls whose handler is still running. Shutdown waits on these, not on gRPC's own
// view: a call whose client went away (deadline, cancel) is gone from the transport while its
// handler still works on the host, and stopping the plugins under it would leave the object it
// makes half-made. Each call's AbortController lets shutdown ask the stragglers to roll back.

export interface InFlightCall {
  readonly rpc: string;
  readonly controller: AbortController;
}

export class InFlightCalls {
  private readonly calls = new Map<InFlightCall, Promise<unknown>>();
  private readonly idleWaiters: (() => void)[] = [];

  /** Tracks `work` (the handler's promise) until it settles, whatever the outcome. */
  track(call: InFlightCall, work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.calls.set(call, settled);
    void settled.then(() => {
      this.calls.delete(call);
      if (this.calls.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    });
  }

  get count(): number {
    return this.calls.size;
  }

  /** The RPC names still running, for a log line ("RunPodSandbox, StopContainer"). */
  names(): string[] {
    return [...this.calls.keys()].map((call) => call.rpc);
  }

  /** Resolves true once no call is in flight, or false after `ms`. */
  async idle(ms: number): Promise<boolean> {
    if (this.calls.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
    clearTimeout(timer);
    return done;
  }

  /** Aborts every call still in flight (handlers that honour their signal roll back). */
  abortAll(reason: string): void {
    for (const call of this.calls.keys()) call.controller.abort(new Error(reason));
  }
}
