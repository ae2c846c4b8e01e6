import { InvalidArgumentError } from '../errors';

// Limits on what a client may put in a pod's or a container's metadata, labels and annotations.
// Every record is kept in the metadata store, listed on every List call and copied into OCI
// specs, so none may grow without bound. Names also travel in CNI_ARGS
// (`K8S_POD_NAME=<name>;…`), which has no escaping: a ';' or '=' would add or break keys, and a
// control character would reach environment variables and log lines. The limits are Kubernetes'
// own where it has one (a name is at most a DNS subdomain, 253 bytes; all annotations of an object
// together at most 256 KiB), generous elsewhere.

export const MAX_NAME_BYTES = 253;
export const MAX_LABEL_KEY_BYTES = 1024;
export const MAX_LABELS_BYTES = 64 * 1024;
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

const CONTROL_OR_CNI_SEPARATOR = /[\u0000-\u001f\u007f;=]/;

/** A metadata name, namespace or uid: 1 to 253 bytes, no control characters, ';' or '='. */
export function checkName(value: string, field: string): void {
  if (value === '') throw new InvalidArgumentError(`${field} must not be empty`);
  if (Buffer.byteLength(value) > MAX_NAME_BYTES) {
    throw new InvalidArgumentError(`${field} is ${Buffer.byteLength(value)} bytes; at most ${MAX_NAME_BYTES} are allowed`);
  }
  if (CONTROL_OR_CNI_SEPARATOR.test(value)) {
    throw new InvalidArgumentError(`${field} ${JSON.stringify(value)} holds a control character, ';' or '=', which a name may not`);
  }
}

/** A label or annotation map: non-empty keys of at most 1 KiB, and at most `maxBytes` in all. */
export function checkStringMap(map: Readonly<Record<string, string>>, field: string, maxBytes: number): void {
  let total = 0;
  for (const [key, value] of Object.entries(map)) {
    if (key === '') throw new InvalidArgumentError(`${field} has an empty key`);
    if (Buffer.byteLength(key) > MAX_LABEL_KEY_BYTES) {
      throw new InvalidArgumentError(`${field} key ${JSON.stringify(key.slice(0, 40))}… is ${Buffer.byteLength(key)} bytes; a key has at most ${MAX_LABEL_KEY_BYTES}`);
    }
    total += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (total > maxBytes) throw new InvalidArgumentError(`${field} hold ${total} bytes; at most ${maxBytes} are allowed`);
}

/** The labels and annotations of a pod or container config. */
export function checkLabelsAndAnnotations(config: { labels: Record<string, string>; annotations: Record<string, string> }, field: string): void {
  checkStringMap(config.labels, `${field}.labels`, MAX_LABELS_BYTES);
  checkStringMap(config.annotations, `${field}.annotations`, MAX_ANNOTATIONS_BYTES);
}
