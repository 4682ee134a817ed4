// Which slot boots, with boot counting: the rule GRUB runs at every boot (grubCfg below)
// and the same rule in TypeScript (selectBootSlot: the sim board's bootloader, and the
// tests' model of GRUB). Variables in the GRUB environment block:
//   ORDER        "A B": slots in preference order (an update puts the new slot first)
//   X_GOOD       1 once the firmware in slot X came up healthy (set by the daemon)
//   X_TRIES      boots left for a slot that is not good yet (an update sets MAX_TRIES;
//                the bootloader takes one before each boot; at 0 the slot is skipped)
//   X_KERNEL, X_INITRD   GRUB blocklists (`first+count`, 512-byte sectors in the slot)
//   X_CMDLINE    kernel command line of the image in slot X; X_VERSION for messages
//   TRIAL_SEC    how long a trial boot may take to become healthy before init reboots
import type { GrubEnv } from './grub-env.js';

export type SlotName = 'A' | 'B';
export const SLOTS: readonly SlotName[] = ['A', 'B'];
export const MAX_TRIES = 3;
export const DEFAULT_TRIAL_SEC = 300;

export const otherSlot = (s: SlotName): SlotName => (s === 'A' ? 'B' : 'A');

export function orderOf(env: GrubEnv): SlotName[] {
  const order = (env.ORDER ?? 'A B').split(/\s+/).filter((s): s is SlotName => s === 'A' || s === 'B');
  return order.length > 0 ? order : ['A', 'B'];
}

export interface BootChoice {
  slot: SlotName;
  /** the slot is on trial (not good yet): a try was taken */
  trial: boolean;
  /** no slot was good or had tries left: slot A booted anyway */
  desperate: boolean;
  /** the environment after the choice (tries counted down) */
  env: GrubEnv;
}

export function selectBootSlot(env: GrubEnv): BootChoice {
  const next = { ...env };
  for (const s of orderOf(env)) {
    if (env[`${s}_GOOD`] === '1') return { slot: s, trial: false, desperate: false, env: next };
    const tries = Number(env[`${s}_TRIES`] ?? 0);
    // GRUB has no arithmetic: its script lists the values 1..MAX_TRIES, so must we.
    if (Number.isInteger(tries) && tries >= 1 && tries <= MAX_TRIES) {
      next[`${s}_TRIES`] = String(tries - 1);
      return { slot: s, trial: true, desperate: false, env: next };
    }
  }
  return { slot: 'A', trial: false, desperate: true, env: next };
}

/** grub.cfg of the factory disk: the rule above in GRUB's script, then the boot. */
export function grubCfg(slotPartitions: Record<SlotName, string>): string {
  const pick = (s: SlotName) => {
    const lines = [`    if [ "$s" = ${s} ]; then`, `      if [ "$${s}_GOOD" = 1 ]; then`, `        set slot=${s}`];
    for (let n = MAX_TRIES; n >= 1; n--) {
      lines.push(`      elif [ "$${s}_TRIES" = ${n} ]; then`, `        set ${s}_TRIES=${n - 1}`, `        set slot=${s}`, '        set trial=1');
    }
    lines.push('      fi', '    fi');
    return lines.join('\n');
  };
  // Loads and starts slot s; says on the console that its kernel and root were read (the
  // slot, the state it boots in) or that they could not be. `boot` returns only on failure.
  const boot = (s: SlotName) => [
    `  echo "Rampart: booting slot ${s} ($${s}_VERSION)"`,
    `  if linux ${slotPartitions[s]}$${s}_KERNEL $${s}_CMDLINE rampart.slot=${s} rampart.trial=$trial rampart.trialsec=$TRIAL_SEC; then`,
    `    if initrd ${slotPartitions[s]}$${s}_INITRD; then`,
    `      echo "Rampart: slot ${s} loaded, trial=$trial"`,
    '      boot',
    '    fi',
    '  fi',
    `  echo "Rampart: slot ${s} could not be loaded"`,
  ].join('\n');
  // A slot that cannot be loaded (its try is counted already) gives way to the other one
  // when that one is good.
  const fallback = (s: SlotName) => [`  if [ "$${s}_GOOD" = 1 ]; then`, '    set trial=0', boot(s).replace(/^/gm, '  '), '  fi'].join('\n');
  return `# Rampart A/B boot with boot counting (firmware/mgmt/update/boot-selection.ts writes this;
# the daemon edits only the environment block beside it).
set timeout=0
set ORDER="A B"
set A_GOOD=0
set B_GOOD=0
set A_TRIES=0
set B_TRIES=0
set TRIAL_SEC=${DEFAULT_TRIAL_SEC}
load_env
set slot=
set trial=0
for s in $ORDER; do
  if [ -z "$slot" ]; then
${pick('A')}
${pick('B')}
  fi
done
if [ -z "$slot" ]; then
  echo "Rampart: no slot is good or has tries left: booting slot A"
  set slot=A
fi
save_env A_TRIES B_TRIES
if [ "$slot" = B ]; then
${boot('B')}
${fallback('A')}
else
${boot('A')}
${fallback('B')}
fi
echo "Rampart: no slot could be loaded"
`;
}
