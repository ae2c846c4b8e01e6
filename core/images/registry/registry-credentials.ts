import { InvalidArgumentError } from '../../errors';

// Credentials for one pull, from CRI's AuthConfig: username/password, `auth` (base64
// "user:password", as in a docker config), an identity token (OAuth2 refresh token) or a
// registry token (a bearer token used as is).

export interface RegistryCredentials {
  readonly username?: string;
  readonly password?: string;
  readonly identityToken?: string;
  readonly registryToken?: string;
}

export interface CriAuthConfig {
  readonly username?: string;
  readonly password?: string;
  readonly auth?: string;
  readonly identity_token?: string;
  readonly registry_token?: string;
}

export function credentialsFromAuthConfig(auth: CriAuthConfig | null | undefined): RegistryCredentials {
  if (!auth) return {};
  let { username, password } = auth;
  if (auth.auth) {
    const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new InvalidArgumentError('AuthConfig.auth is not base64 of "username:password"');
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  return {
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(auth.identity_token ? { identityToken: auth.identity_token } : {}),
    ...(auth.registry_token ? { registryToken: auth.registry_token } : {}),
  };
}

export function basicAuthorization(credentials: RegistryCredentials): string | undefined {
  if (credentials.username === undefined) return undefined;
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password ?? ''}`).toString('base64')}`;
}
