// The configuration model: one plain-data object (JSON-serialisable, structured-clonable)
// whose sections are contributed by feature files. A feature file declares its section's
// type by augmenting `Config` and registers how to create and render it:
//
//   declare module './model.js' { interface Config { acl: AclConfig } }
//   defineSection({ key: 'acl', order: 400, create: () => ({...}), render: (c) => [...] });
//
// `running-config` is rendered from the model, in IOS's canonical order (by `order`).

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Config {
  /** Bumped on every change; appliers compare it to decide whether to re-apply. */
  revision: number;
}

export type SectionKey = Exclude<keyof Config, 'revision'>;

export interface Section<K extends SectionKey = SectionKey> {
  key: K;
  /** Position in running-config: lower renders first. */
  order: number;
  create(): Config[K];
  /** Blocks of lines; running-config separates blocks with `!`. */
  render(cfg: Config): string[][];
}

const sections: Section[] = [];

export function defineSection<K extends SectionKey>(section: Section<K>): void {
  if (sections.some((s) => s.key === section.key)) throw new Error(`config section ${String(section.key)} defined twice`);
  sections.push(section as unknown as Section);
  sections.sort((a, b) => a.order - b.order);
}

export function registeredSections(): readonly Section[] {
  return sections;
}

export function createConfig(): Config {
  const cfg = { revision: 0 } as Record<string, unknown>;
  for (const s of sections) cfg[s.key] = s.create();
  return cfg as unknown as Config;
}

export function cloneConfig(cfg: Config): Config {
  return structuredClone(cfg);
}

/** The configuration as IOS prints it after the `Current configuration` header. */
export function renderConfigLines(cfg: Config): string[] {
  const out: string[] = ['!'];
  for (const s of sections) {
    for (const block of s.render(cfg)) {
      if (block.length === 0) continue;
      out.push(...block, '!');
    }
  }
  out.push('end');
  return out;
}
