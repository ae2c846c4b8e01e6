import { UnauthenticatedError, UnavailableError, describeError } from '../../errors';
import type { AuthChallenge } from './auth-challenge';
import { httpRequest, readBody } from './http-request';
import { basicAuthorization, type RegistryCredentials } from './registry-credentials';

// Bearer tokens for the distribution token flow: a registry answers 401 with a realm; we ask the
// realm for a token for the scope, anonymously or with credentials (Basic, or an OAuth2 refresh
// token for identity tokens), and cache it until shortly before it expires.

interface CachedToken {
  readonly value: string;
  readonly expiresAt: number;
}

const MAX_TOKEN_RESPONSE = 1024 * 1024;

export class TokenFetcher {
  private readonly cache = new Map<string, CachedToken>();

  constructor(
    private readonly credentials: RegistryCredentials,
    private readonly insecureSkipVerify: (realm: URL) => boolean,
  ) {}

  /** The Authorization header value answering `challenge` for `scope`. */
  async authorization(challenge: AuthChallenge, scope: string, registry: string): Promise<string> {
    if (challenge.scheme === 'basic') {
      const basic = basicAuthorization(this.credentials);
      if (!basic) throw new UnauthenticatedError(`registry ${registry} requires credentials (Basic auth) and none were given`);
      return basic;
    }
    if (this.credentials.registryToken) return `Bearer ${this.credentials.registryToken}`;
    const realm = challenge.params['realm'];
    if (!realm) throw new UnauthenticatedError(`registry ${registry} asked for a bearer token without saying where to get one (no realm)`);
    const service = challenge.params['service'] ?? '';
    const key = `${realm} ${service} ${scope}`;
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.value}`;
    const token = await this.fetchToken(new URL(realm), service, scope, registry);
    this.cache.set(key, token);
    return `Bearer ${token.value}`;
  }

  private async fetchToken(realm: URL, service: string, scope: string, registry: string): Promise<CachedToken> {
    const insecureSkipVerify = this.insecureSkipVerify(realm);
    let response;
    try {
      if (this.credentials.identityToken) {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.credentials.identityToken, service, scope, client_id: 'caisson' });
        response = await httpRequest(realm, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
          insecureSkipVerify,
        });
      } else {
        const url = new URL(realm);
        if (service) url.searchParams.set('service', service);
        if (scope) url.searchParams.set('scope', scope);
        const basic = basicAuthorization(this.credentials);
        response = await httpRequest(url, { headers: basic ? { Authorization: basic } : {}, insecureSkipVerify });
      }
    } catch (error) {
      throw new UnavailableError(`token service ${realm.origin} of registry ${registry} is unreachable: ${describeError(error)}`, { cause: error });
    }
    const body = await readBody(response, MAX_TOKEN_RESPONSE);
    if (response.status === 401 || response.status === 403) {
      // An identity token is what was sent whenever there is one (the POST above), user name or not.
      const who = this.credentials.identityToken
        ? 'the identity token (OAuth2 refresh token)'
        : this.credentials.username
          ? `the credentials of user "${this.credentials.username}"`
          : 'anonymous access';
      throw new UnauthenticatedError(`token service ${realm.origin} of registry ${registry} refused ${who} (${response.status})`);
    }
    if (response.status !== 200) {
      throw new UnavailableError(`token service ${realm.origin} of registry ${registry} answered ${response.status}: ${body.toString('utf8').slice(0, 200)}`);
    }
    const parsed = JSON.parse(body.toString('utf8')) as { token?: string; access_token?: string; expires_in?: number };
    const value = parsed.access_token ?? parsed.token;
    if (!value) throw new UnauthenticatedError(`token service ${realm.origin} of registry ${registry} returned no token`);
    const lifetimeSeconds = Math.max(60, parsed.expires_in ?? 60);
    return { value, expiresAt: Date.now() + (lifetimeSeconds - 30) * 1000 };
  }
}
