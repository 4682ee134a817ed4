// CLI modes as data: a name, the prompt suffix IOS shows, and the parent mode that `exit`
// returns to and whose commands are tried when a line does not parse in the sub-mode.

export interface ModeDef {
  name: string;
  /** Text between the hostname and `#`/`>`, e.g. `(config-crypto-m)`. */
  prompt: string;
  /** `exit` goes here; unmatched lines are retried here (leaving this mode) as IOS does. */
  parent?: string;
  /** Exec modes end with `>` (user) or `#` (privileged). */
  user?: boolean;
}

const modes = new Map<string, ModeDef>();

export function defineMode(def: ModeDef): void {
  if (modes.has(def.name)) throw new Error(`mode ${def.name} defined twice`);
  modes.set(def.name, def);
}

export function getMode(name: string): ModeDef {
  const m = modes.get(name);
  if (!m) throw new Error(`unknown mode ${name}`);
  return m;
}

/** Every mode defined so far (commands files define theirs when imported). */
export function allModes(): string[] {
  return [...modes.keys()];
}

export function isConfigMode(name: string): boolean {
  for (let m: ModeDef | undefined = getMode(name); m; m = m.parent ? modes.get(m.parent) : undefined) {
    if (m.name === 'config') return true;
  }
  return false;
}

// The core modes. Feature files define their own sub-modes beside their commands.
defineMode({ name: 'user', prompt: '', user: true });
defineMode({ name: 'exec', prompt: '' });
defineMode({ name: 'config', prompt: '(config)' });
