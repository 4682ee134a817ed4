// The README's first-tunnel walkthrough, typed word for word on a real pty into
// `npm start -- lab`, as a person would: configure, ping until the tunnel is up, the show
// commands, `reload` in the middle, then Ctrl-C, Ctrl-Z and Tab after the reload, and
// quitting removes every namespace the lab made.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnOnPty } from '../lib/pty.js';
import { isRoot } from '../lib/netns.js';

const root = join(import.meta.dirname, '..', '..');

/** The lines of the README's walkthrough block. */
function walkthrough(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const m = /<!-- lab-walkthrough[^>]*-->\n```\n([\s\S]*?)\n```/.exec(readme);
  if (!m) throw new Error('README has no lab-walkthrough block');
  return m[1]!.split('\n');
}

const labNamespaces = (tag: string) => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith(tag));

t.test('without root the lab explains why it cannot run', { skip: isRoot() ? 'running as root' : false }, async (t) => {
  const r = spawnSync(process.execPath, ['scripts/start.mjs', 'lab'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  t.not(r.status, 0);
  t.match(r.stderr, /npm start -- lab needs root/);
});

t.test('the README walkthrough on the lab', { skip: isRoot() ? false : 'needs root: network namespaces', timeout: 300_000 }, async (t) => {
  const lines = walkthrough();
  t.ok(lines.length >= 12, `${lines.length} lines in the walkthrough`);
  const box = spawnOnPty('node scripts/start.mjs lab', { cwd: root });
  let tag = '';
  t.teardown(async () => {
    if (process.env.PTY_DEBUG) writeFileSync(process.env.PTY_DEBUG, box.output());
    await box.kill();
    // The lab cleans up on exit; after a failed run, leave nothing behind either.
    for (const n of tag ? labNamespaces(tag) : []) spawnSync('ip', ['netns', 'del', n]);
  });
  const boot = await box.expect(/Branch>$/, 120_000);
  tag = /lab: namespaces (rlab\d+)-/.exec(boot)?.[1] ?? '';
  t.ok(tag, 'the lab names its namespaces');
  t.match(boot, /rampart: \[1\/3\][\s\S]*rampart: \[2\/3\][\s\S]*rampart: \[3\/3\]/, 'a progress line per step');
  t.match(boot, /GigabitEthernet0\/0 \(WAN\): wired to Linux interface wan0/);

  const pingUntilUp = async (line: string): Promise<string> => {
    let out = '';
    for (let i = 0; i < 8; i++) {
      box.type(`${line}\r`);
      out = await box.expect(/Success rate is \d+ percent.*\n.*Branch#$/, 30_000);
      if (/Success rate is 100 percent/.test(out)) return out;
    }
    return out;
  };

  for (const line of lines) {
    if (line.startsWith('ping ')) {
      const out = await pingUntilUp(line);
      t.match(out, /Type escape sequence to abort\.\nSending 5, 100-byte ICMP Echos to 10\.2\.0\.10, timeout is 2 seconds:\nPacket sent with a source address of 10\.1\.0\.1 \n!!!!!\nSuccess rate is 100 percent \(5\/5\), round-trip min\/avg\/max = \d+\/\d+\/\d+ ms/, 'the far server answers through the tunnel');
      continue;
    }
    box.type(`${line}\r`);
    let out = '';
    // Long show output pages at --More--, as on IOS: the space bar shows the next page.
    for (let page = await box.expect(/(Branch(\([a-z-]+\))?#|--More-- )$/, 30_000); ; page = await box.expect(/(Branch(\([a-z-]+\))?#|--More-- )$/, 30_000)) {
      out += page;
      if (!page.endsWith('--More-- ')) break;
      box.type(' ');
    }
    t.notMatch(out.replace(/^.*\n/, ''), /^% (Invalid|Incomplete|Ambiguous)/m, `"${line}" is accepted`);
    if (line === 'show crypto isakmp sa') t.match(out, /172\.16\.0\.2\s+172\.16\.0\.1\s+QM_IDLE|172\.16\.0\.1\s+172\.16\.0\.2\s+QM_IDLE/, 'an ISAKMP SA in QM_IDLE');
    if (line === 'show crypto ipsec sa') t.match(out, /#pkts encaps: [1-9]\d*/, 'encapsulated packets counted');
  }

  box.type('reload\r');
  await box.expect(/\[confirm\]$/);
  box.type('\r');
  await box.expect(/Branch>$/, 60_000);
  box.type('enable\r');
  await box.expect(/Branch#$/);
  const again = await pingUntilUp('ping 10.2.0.10 source GigabitEthernet0/1');
  t.match(again, /Success rate is 100 percent/, 'after reload the saved crypto map brings the tunnel back');

  box.type('configure terminal\r');
  await box.expect(/Branch\(config\)#$/);
  box.type('\x03');
  // leaving configuration mode logs %SYS-5-CONFIG_I before the prompt, as IOS does
  await box.expect(/\^C\n(?:.*%SYS-5-CONFIG_I.*\n)*Branch#$/);
  t.pass('Ctrl-C after reload leaves configuration mode, the lab stays up');
  box.type('configure terminal\r');
  await box.expect(/Branch\(config\)#$/);
  box.type('crypto isakmp policy 10\r');
  await box.expect(/Branch\(config-isakmp\)#$/);
  box.type('lifetime 3600\x1a');
  await box.expect(/\^Z\n[\s\S]*Branch#$/);
  box.type('show running-config | include lifetime\r');
  t.match(await box.expect(/Branch#$/), /^ lifetime 3600$/m, 'Ctrl-Z after reload runs the line, then ends');
  box.type('show crypto isakmp s\t');
  await box.expect(/show crypto isakmp sa $/);
  box.type('\r');
  t.match(await box.expect(/Branch#$/), /QM_IDLE/, 'Tab after reload completes at once');

  box.type('\x01');
  await new Promise((r) => setTimeout(r, 300));
  box.type('x');
  await box.expect(/lab: removed namespaces/, 30_000);
  t.same(labNamespaces(tag), [], 'quitting removes every namespace of the lab');
});
