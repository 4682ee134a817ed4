// Loading the native fast-path addon (drivers/native, package rampart-native) for one
// feature: the crypto contexts of the software engine, the batched packet syscalls of the
// data plane. Each feature asks for the functions it needs and gets them, or a reason why
// not (addon not built, an older build without them, or switched off by environment:
// RAMPART_NATIVE=0 for all features, a feature's own variable for one), so callers fall
// back to their pure-Node path and show commands can say which path runs.
import { createRequire } from 'node:module';

export interface NativeFeature<T> {
  /** The functions, when available. */
  readonly addon?: T;
  /** What is used or why not, for show commands and logs. */
  readonly reason: string;
}

/**
 * A feature loaded on first use and cached: `get()` its functions (undefined when not
 * available), `status()` the reason line, `reset()` (tests) to read the environment again.
 */
export function cachedNativeFeature<T>(what: string, functions: readonly string[], offVariable?: string): {
  get(): T | undefined; status(): string; reset(): void;
} {
  let loaded: NativeFeature<T> | undefined;
  const load = (): NativeFeature<T> => (loaded ??= loadNativeFeature<T>(what, functions, offVariable));
  return { get: () => load().addon, status: () => load().reason, reset: () => { loaded = undefined; } };
}

/**
 * Loads the addon and checks that `functions` are there. `offVariable` is the feature's
 * own switch (set to "0" to turn it off); `what` describes the feature when it is on.
 */
export function loadNativeFeature<T>(what: string, functions: readonly string[], offVariable?: string): NativeFeature<T> {
  if (process.env.RAMPART_NATIVE === '0') return { reason: 'disabled (RAMPART_NATIVE=0)' };
  if (offVariable && process.env[offVariable] === '0') return { reason: `disabled (${offVariable}=0)` };
  let m: Record<string, unknown>;
  try {
    m = createRequire(import.meta.url)('rampart-native') as Record<string, unknown>;
  } catch (e) {
    return { reason: `addon not loaded: ${(e as Error).message.split('\n')[0]}` };
  }
  const missing = functions.filter((f) => typeof m[f] !== 'function');
  if (missing.length > 0) return { reason: `addon without ${missing.join(', ')} (rebuild drivers/native)` };
  return { addon: m as T, reason: what };
}
