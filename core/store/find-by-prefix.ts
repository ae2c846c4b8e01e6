import { InvalidArgumentError } from '../errors';

// Objects are named by their full ID or by a prefix of it, as crictl and docker allow. A prefix
// that matches more than one object names none: the caller gets INVALID_ARGUMENT saying so,
// rather than NOT_FOUND, which would read as "no such object".

export function findByPrefix<T extends { readonly id: string }>(id: string, exact: T | undefined, all: () => readonly T[], kind: 'container' | 'sandbox'): T | undefined {
  if (id === '') return undefined;
  if (exact) return exact;
  const matches = all().filter((item) => item.id.startsWith(id));
  if (matches.length > 1) {
    throw new InvalidArgumentError(`${kind} ID prefix "${id}" is ambiguous: it matches ${matches.length} ${kind === 'sandbox' ? 'sandboxes' : 'containers'}`);
  }
  return matches[0];
}
