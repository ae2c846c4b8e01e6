import { InvalidArgumentError } from '../errors';

// Image references, normalised as Docker does: `busybox` is docker.io/library/busybox:latest,
// `127.0.0.1:5000/app` keeps its registry (the port makes it one), a digest pins the content.
// Pure functions: no registry is contacted here.

export const DOCKER_HUB = 'docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::\d+)?$/;

export interface ImageReference {
  /** Registry host as written in references: "docker.io", "127.0.0.1:5000". */
  readonly registry: string;
  /** Path inside the registry: "library/busybox". */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** A registry host, a 255-character name, a 128-character tag and a sha256 digest, with separators. */
const MAX_REFERENCE_LENGTH = 255 + 1 + 255 + 1 + 128 + 1 + 71;

/** Parses and normalises a reference; a reference with neither tag nor digest gets `latest`. */
export function parseImageReference(text: string): ImageReference {
  const input = text.trim();
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`image reference "${text}" is invalid: ${why}`);
  };
  if (input === '') fail('it is empty');
  // The distribution spec bounds a repository name at 255 characters; a longer one is no image.
  if (input.length > MAX_REFERENCE_LENGTH) fail(`it is ${input.length} characters long; a reference has at most ${MAX_REFERENCE_LENGTH}`);

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) fail(`"${digest}" is not a sha256 digest (sha256:<64 hex digits>)`);
  }

  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) fail(`"${tag}" is not a valid tag`);
  }

  let registry = DOCKER_HUB;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      registry = first;
      path = rest.slice(slash + 1);
      if (!DOMAIN.test(registry)) fail(`"${registry}" is not a valid registry host`);
    }
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (path === '') fail('the repository name is empty');
  for (const component of path.split('/')) {
    if (!COMPONENT.test(component)) fail(`"${component}" is not a valid repository component (lower-case letters, digits, separators)`);
  }
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;

  if (tag === undefined && digest === undefined) tag = 'latest';
  return { registry, repository: path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** "docker.io/library/busybox". */
export function repositoryName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** "docker.io/library/busybox:latest" (or null when the reference has no tag). */
export function taggedName(ref: ImageReference): string | undefined {
  return ref.tag === undefined ? undefined : `${repositoryName(ref)}:${ref.tag}`;
}

/** "docker.io/library/busybox@sha256:…" for a given manifest digest. */
export function digestedName(ref: ImageReference, digest: string): string {
  return `${repositoryName(ref)}@${digest}`;
}

/** The full normalised reference: name[:tag][@digest]. */
export function formatReference(ref: ImageReference): string {
  return `${repositoryName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

export function isDigest(text: string): boolean {
  return DIGEST.test(text);
}
