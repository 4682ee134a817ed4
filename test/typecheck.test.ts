// The whole tree typechecks in strict mode, and imports flow one way (DESIGN.md):
// lib <- proto, config <- ipsec <- ike, dataplane <- kernel <- daemon; cli sees only
// config, lib and its own read-only interfaces; drivers see only lib.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const root = join(import.meta.dirname, '..');

t.test('tsc --strict finds no errors', async (t) => {
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stdout.split('\n').slice(0, 30).join('\n'));
});

/** Which firmware layers a layer may import. */
const ALLOWED: Record<string, string[]> = {
  lib: ['lib'],
  proto: ['lib', 'proto'],
  config: ['lib', 'config'],
  cli: ['lib', 'config', 'cli'],
  ipsec: ['lib', 'proto', 'config', 'ipsec'],
  ike: ['lib', 'proto', 'config', 'ipsec', 'ike'],
  dataplane: ['lib', 'proto', 'config', 'ipsec', 'dataplane'],
  kernel: ['lib', 'proto', 'config', 'ipsec', 'dataplane', 'kernel'],
  mgmt: ['lib', 'config', 'cli', 'mgmt'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function layerOf(file: string): string | undefined {
  const rel = relative(root, file).split('/');
  if (rel[0] === 'drivers') return 'drivers';
  if (rel[0] === 'firmware' && rel.length > 2) return rel[1];
  return undefined;
}

t.test('imports flow one way', async (t) => {
  const bad: string[] = [];
  for (const file of [...files(join(root, 'firmware')), ...files(join(root, 'drivers'))]) {
    const layer = layerOf(file);
    if (!layer) continue;
    const allowed = layer === 'drivers' ? ['lib', 'drivers'] : ALLOWED[layer];
    if (!allowed) continue; // daemon: the composition root imports everything
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|(?:^|\n)\s*import\s+['"](\.[^'"]+)['"]/g)) {
      const spec = m[1] ?? m[2]!;
      const target = resolve(dirname(file), spec);
      const tl = layerOf(target) ?? relative(root, target).split('/')[0];
      if (tl && !allowed.includes(tl)) bad.push(`${relative(root, file)} imports ${spec} (${layer} -> ${tl})`);
    }
  }
  t.same(bad, [], bad.join('\n'));
});
