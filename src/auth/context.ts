import { defaultConfig, withDefaults, type KeySources } from "../config.ts";
import {
  addRateLimitHeaders,
  KEY_STORE_UNAVAILABLE_REFUSAL,
  keyRefusal,
  type KeyFailureReason,
  rateLimitRefusal,
  refusalError,
  throttledRefusal,
  type RequestRefusal,
} from "../errors.ts";
import { readPresentedKey, type KeyCarrier, type PresentedKey } from "../http/read-key.ts";
import type { FailedAuthThrottle } from "../limits/failed-auth-throttle.ts";
import type { KeyRateLimiter, RateDecision } from "../limits/rate-limit.ts";
import type { UsageRecorder } from "../limits/usage-recorder.ts";
import { noopMetrics, type Metrics } from "../metrics.ts";
import type { AuthenticatedKey } from "./credential.ts";
import { KeyStoreUnavailableError, type KeyVerifier, type Verification } from "./verify-key.ts";

/** What Keyscope puts in the GraphQL context; the directive and resolvers read `auth`. */
export interface KeyscopeContext {
  auth: Auth;
}

export interface Auth {
  /** The verified calling key; null when the request carried none. */
  key: AuthenticatedKey | null;
  /** The client's address, for the audit trail and throttling. */
  clientAddress: string | null;
  /** This request's standing against the key's rate limit (null without a key or a limiter). */
  rateLimit: RateDecision | null;
  /** Fields the directive refused in this request (usage counts the request as rejected). */
  refusals: number;
}

export interface KeyRequest extends KeyCarrier {
  clientAddress: string | null;
  /** The connection (socket) the request came on: a repeated key on it is checked faster. */
  connection?: object;
  /** The key as read at the door (http/read-key.ts); when absent it is read here. */
  presented?: PresentedKey;
}

export interface ContextOptions {
  verifier: KeyVerifier;
  /** Where keys may arrive besides X-API-Key and Authorization. @default none (SPEC §3) */
  keySources?: Partial<KeySources>;
  /** Per-key rate limits; leave out for none. */
  rateLimiter?: KeyRateLimiter | undefined;
  /** Failed checks per client address; leave out for none. */
  throttle?: FailedAuthThrottle | undefined;
  /** Counts requests refused by the rate limit here; the rest in `finishRequest`. */
  usage?: UsageRecorder | undefined;
  /** Counts requests without a key, keys refused at the door, and 429s (the verifier counts the rest). @default noopMetrics */
  metrics?: Pick<Metrics, "keyChecked" | "rateLimited" | "throttled">;
}

/** A request's auth, or why the whole request is refused. */
export type Admission = { ok: true; auth: Auth } | { ok: false; refusal: RequestRefusal };

/**
 * Builds the request's auth. A presented key that fails throws a 401 GraphQLError for the
 * whole request, a key over its limit (or an address past its failures) a 429; no key at all
 * is fine here (guarded fields refuse it one by one).
 */
export function createAuthResolver(options: ContextOptions): (request: KeyRequest) => Promise<Auth> {
  return throwingRefusals(createAdmission(options));
}

/** An admission whose refusals are thrown as the GraphQLErrors Apollo answers with their status. */
export function throwingRefusals(admit: (request: KeyRequest) => Promise<Admission>): (request: KeyRequest) => Promise<Auth> {
  return async (request) => {
    const admission = await admit(request);
    if (admission.ok) return admission.auth;
    throw refusalError(admission.refusal);
  };
}

/**
 * The same, the refusal as a value: what Keyscope's own door answers without building an error
 * (a forged key's request is the flood's, so its refusal is kept cheap).
 */
export function createAdmission(options: ContextOptions): (request: KeyRequest) => Promise<Admission> {
  const { verifier, rateLimiter, throttle, usage, metrics = noopMetrics } = options;
  const keySources: KeySources = withDefaults(defaultConfig.keySources, options.keySources);
  return async (request) => {
    const address = request.clientAddress;
    const presented = request.presented ?? readPresentedKey(request, keySources);
    if (presented.kind === "none") {
      metrics.keyChecked("KEY_MISSING", "none");
      return admitted({ key: null, clientAddress: address, rateLimit: null, refusals: 0 });
    }
    if (throttle && address && throttle.isSuspect(address)) {
      const wait = await throttle.retryAfter(address);
      if (wait > 0) {
        metrics.throttled();
        return refused(throttledRefusal(wait));
      }
    }
    if (presented.kind === "rejected") {
      metrics.keyChecked(presented.reason, "none");
      return refused(await refusedWithoutIo(presented.reason, throttle, address));
    }
    // A key known to the cache is judged without an await; only a miss asks the store.
    const known = verifier.verifyWithoutIo(presented.key, request.connection);
    if (known && !known.ok) return refused(await refusedWithoutIo(known.reason, throttle, address));
    const result = known ?? (await verifyCounted(verifier, presented.key, throttle, address, metrics));
    if ("refusal" in result) return refused(result.refusal);
    if (!result.ok) return refused(keyRefusal(result.reason));
    const key = result.key;
    const rateLimit = rateLimiter ? await rateLimiter.consume(key.id, key.rateLimit) : null;
    if (rateLimit && !rateLimit.allowed) {
      metrics.rateLimited();
      usage?.record(key.id, true);
      return refused(rateLimitRefusal(rateLimit));
    }
    return admitted({ key, clientAddress: address, rateLimit, refusals: 0 });
  };
}

const admitted = (auth: Auth): Admission => ({ ok: true, auth });
const refused = (refusal: RequestRefusal): Admission => ({ ok: false, refusal });

/** After the response is built: RateLimit-* headers, and the request counted in usage. */
export function finishRequest(auth: Auth | undefined, addHeader: (name: string, value: string) => void, usage: UsageRecorder | undefined): void {
  if (!auth?.key) return;
  if (auth.rateLimit) addRateLimitHeaders(auth.rateLimit, addHeader);
  usage?.record(auth.key.id, auth.refusals > 0);
}

/** The directive's refusal hook for usage: a request with a refused field counts as rejected. */
export function countRefusal(auth: Auth | undefined): void {
  if (auth) auth.refusals++;
}

/** Refused without asking the store (the format, the cache): the failure is counted after the fact. */
async function refusedWithoutIo(reason: KeyFailureReason, throttle: FailedAuthThrottle | undefined, address: string | null): Promise<RequestRefusal> {
  if (throttle && address) await throttle.recordFailure(address);
  return keyRefusal(reason);
}

/**
 * A look-up in the key store, counted as a failure of the address before it is made (and given
 * back if the key is valid, or if the store could not answer): simultaneous guesses cannot all
 * slip past the throttle while the first ones are still being looked up.
 */
async function verifyCounted(
  verifier: KeyVerifier,
  key: string,
  throttle: FailedAuthThrottle | undefined,
  address: string | null,
  metrics: Pick<Metrics, "throttled">,
): Promise<Verification | { refusal: RequestRefusal }> {
  const counted = throttle && address ? { throttle, address } : undefined;
  if (counted) {
    const wait = await counted.throttle.reserve(counted.address);
    if (wait > 0) {
      metrics.throttled();
      return { refusal: throttledRefusal(wait) };
    }
  }
  let result: Verification;
  try {
    result = await verifier.verify(key);
  } catch (error) {
    await counted?.throttle.settle(counted.address, false).catch(() => {});
    if (error instanceof KeyStoreUnavailableError) return { refusal: KEY_STORE_UNAVAILABLE_REFUSAL };
    throw error;
  }
  await counted?.throttle.settle(counted.address, !result.ok);
  return result;
}
