// The library's public face: the server in one call, and the parts beneath it.
export { createKeyscopeServer, type KeyscopeServer, type KeyscopeServerOptions } from "./keyscope-server.ts";
export { requiresKeyTransform, requiresKeyTypeDefs, DirectiveError, NAME_PATTERN } from "./graphql/requires-key.ts";
export { buildKeyscopeSchema, managementTypeDefs } from "./graphql/build-schema.ts";
export { createErrorFormatter } from "./graphql/format-error.ts";
export { ErrorCode, type KeyFailureReason } from "./graphql/errors.ts";
export { createAuthResolver, type Auth, type KeyRequest, type KeyscopeContext } from "./auth/context.ts";
export { createKeyVerifier, judge, KeyStoreUnavailableError, type KeyVerifier, type Verification } from "./auth/verify-key.ts";
export { KeyCache } from "./auth/key-cache.ts";
export type { AuthenticatedKey, Credential } from "./auth/credential.ts";
export { readPresentedKey, type PresentedKey, type KeyCarrier } from "./http/read-key.ts";
export { createKeyService, type KeyService, type IssuedKey } from "./keys/key-service.ts";
export { createUserService, type UserService } from "./users/user-service.ts";
export { generateKey, checksum, hashKey, classifyKey } from "./keys/key-format.ts";
export { openDatabase, type Database, type DatabaseOptions } from "./db/client.ts";
export { loadConfig, resolveConfig, defaultConfig, ConfigError, type KeyscopeConfig, type KeyscopeConfigInput } from "./config.ts";
export { systemClock, type Clock } from "./clock.ts";
