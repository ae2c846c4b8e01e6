// Readiness of one part of the node (a runtime, the network), as CRI's RuntimeCondition carries
// it: Status reports each as a condition with a reason and a message a person can act on.
export interface Readiness {
  readonly ready: boolean;
  readonly reason: string;
  readonly message: string;
}
