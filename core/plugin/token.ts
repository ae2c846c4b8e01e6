// Typed injection tokens. A token is a symbol from the process-wide registry
// (`Symbol.for('caisson.<name>')`), so two copies of Caisson's API in one process (a plugin that
// bundles its own) still name the same binding; the phantom type lets `requires` tell `init` what
// each token resolves to.

declare const resolvesTo: unique symbol;

/** A symbol naming one binding of type T in a daemon's container. */
export type Token<T> = symbol & { readonly [resolvesTo]?: T };

/** The type a token resolves to. */
export type TokenType<K> = K extends Token<infer T> ? T : never;

/** Makes the token `caisson.<name>`; the same name always gives the same symbol. */
export function defineToken<T>(name: string): Token<T> {
  return Symbol.for(`caisson.${name}`) as Token<T>;
}

/** A requirement a plugin can do without: `init` gets undefined when nothing binds the token. */
export interface OptionalToken<T> {
  readonly optional: Token<T>;
}

export function optional<T>(token: Token<T>): OptionalToken<T> {
  return { optional: token };
}

/** What a manifest's `requires` maps: the names `init` receives, each to a token. */
export type Requirements = Readonly<Record<string, Token<unknown> | OptionalToken<unknown>>>;

/** What `init` receives for a `requires` map. */
export type Injected<R extends Requirements> = {
  readonly [K in keyof R]: R[K] extends OptionalToken<infer T> ? T | undefined : R[K] extends Token<infer T> ? T : never;
};

/** "CgroupDriver" for `caisson.CgroupDriver`, for messages. */
export function tokenName(token: symbol): string {
  const description = token.description ?? token.toString();
  return description.startsWith('caisson.') ? description.slice('caisson.'.length) : description;
}

export function isOptionalToken(requirement: Token<unknown> | OptionalToken<unknown>): requirement is OptionalToken<unknown> {
  return typeof requirement === 'object' && requirement !== null && typeof requirement.optional === 'symbol';
}

/** A manifest's `requires` as [name, requirement] pairs (none when it has no `requires`). */
export function requirementsOf(requires: Requirements | undefined): [string, Token<unknown> | OptionalToken<unknown>][] {
  return Object.entries(requires ?? {});
}
