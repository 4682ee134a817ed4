// Lengths IOS enforces on values typed at the CLI, checked where the value is taken so
// a pasted 5,000-character key is refused with a clear message instead of stored.
import { CliError } from './context.js';

/** IOS refuses clear-text pre-shared keys (ISAKMP, keyrings, IKEv2 keyrings) longer than this. */
export const PRESHARED_KEY_MAX = 128;

/** The key as typed, or a CliError when a clear-text key is longer than IOS allows. */
export function presharedKeyText(secret: string, keyType: 0 | 6): string {
  if (keyType === 0 && secret.length > PRESHARED_KEY_MAX) {
    throw new CliError(`% Pre-shared key too long: ${secret.length} characters, at most ${PRESHARED_KEY_MAX}`);
  }
  return secret;
}
