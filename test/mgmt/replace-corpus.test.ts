// configure replace's difference commands against every configuration of the guide corpus
// (test/corpus/guide): each is replaced into the one before it, and at the end back to an
// empty box. Every replace converges through commands alone (no whole-model swap) within
// IOS's 5 passes, and re-diffing the result finds nothing. In-process, no root needed.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../firmware/cli/commands/index.js';
import { loadConfigText } from '../../firmware/cli/config-loader.js';
import { contextualDiff } from '../../firmware/config/config-diff.js';
import { setBoardPorts } from '../../firmware/config/interface.js';
import { createConfig, renderConfigLines, type Config } from '../../firmware/config/model.js';
import { applyDifferences } from '../../firmware/mgmt/config-replace.js';
import { fakeSystem } from '../lib/fake-system.js';
import { projectRoot } from '../lib/netns.js';

const dir = join(projectRoot(), 'test', 'corpus', 'guide');
const sys = fakeSystem();
const text = (c: Config) => `${renderConfigLines(c).join('\n')}\n`;
const fresh = () => { const c = createConfig(); setBoardPorts(c, sys.board.ports); return c; };

t.test('every guide configuration replaces the one before it through commands', async (t) => {
  const targets: Array<{ name: string; text: string }> = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.txt')).sort()) {
    const cfg = fresh();
    await loadConfigText(readFileSync(join(dir, f), 'utf8'), cfg, sys);
    targets.push({ name: f, text: text(cfg) });
  }
  targets.push({ name: '(empty box)', text: text(fresh()) });
  t.ok(targets.length > 40, `${targets.length} configurations`);
  const running = fresh();
  let most = 0;
  for (const target of targets) {
    const r = await applyDifferences(target.text, {
      runningText: () => text(running),
      applyLines: async (lines) => { await loadConfigText(lines.join('\n'), running, sys); },
    });
    most = Math.max(most, r.passes.length);
    t.ok(r.done, `${target.name}: converged in ${r.passes.length} pass(es)`);
    t.strictSame(contextualDiff(text(running), target.text), [], `${target.name}: nothing left to differ`);
  }
  t.ok(most <= 2, `at most ${most} passes`);
});
