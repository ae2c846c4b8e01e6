import { InvalidArgumentError } from '../errors';

// Every concern of the spec builder rejects a bad CRI config the same way: an INVALID_ARGUMENT
// naming the container. The concerns take this function rather than the container name so they
// need not know how the message is framed.

/** Makes the error to throw for `cause` (and keeps `error` as its cause when given). */
export type SpecFail = (cause: string, error?: unknown) => InvalidArgumentError;

export function containerSpecFail(containerName: string): SpecFail {
  return (cause, error) =>
    new InvalidArgumentError(`container "${containerName}": ${cause}`, error === undefined ? undefined : { cause: error });
}
