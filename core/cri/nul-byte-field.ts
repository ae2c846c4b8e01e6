// No CRI string may hold a NUL byte. Names, args, env, paths and labels end up on command lines
// (runc, conmon, CNI), in file paths and in files, where a NUL either cuts the string short or
// makes child_process throw: such a request is refused up front with INVALID_ARGUMENT naming
// the field, before any handler sees it.

/** The path of the first string (value or map key) in `message` that holds a NUL byte. */
export function nulByteField(message: unknown, at = ''): string | undefined {
  if (typeof message === 'string') return message.includes('\0') ? at : undefined;
  if (message === null || typeof message !== 'object' || Buffer.isBuffer(message) || message instanceof Uint8Array) return undefined;
  if (Array.isArray(message)) {
    for (const [index, item] of message.entries()) {
      const found = nulByteField(item, `${at}[${index}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, value] of Object.entries(message)) {
    if (key.includes('\0')) return `${at}[${JSON.stringify(key)}]`;
    const found = nulByteField(value, at === '' ? key : `${at}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}
