// The console served on a serial line: `rampart console --device PATH` opens the device
// with serialport and runs the CLI on it. A socat pty pair stands in for the cable: the
// console holds one end, the test types on the other like a terminal emulator would.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simBoard } from '../../board/sim.js';
import { Daemon } from '../../firmware/daemon/daemon.js';
import { bundleForNode } from '../lib/netns.js';

const root = join(import.meta.dirname, '..', '..');
const haveSocat = spawnSync('socat', ['-V']).status === 0;

t.test('a terminal on the other end of a serial line', { skip: haveSocat ? false : 'needs socat (Debian package socat; npm test installs it when run as root)' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-serial-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'run', 'rampart.sock');
  const daemon = new Daemon({ board: simBoard({ stateDir: dir }), socketPath: sock, services: [] });
  await daemon.start();
  t.teardown(() => daemon.stop());

  // The cable: two linked ptys.
  const a = join(dir, 'ttyA'), b = join(dir, 'ttyB');
  const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  t.teardown(() => { socat.kill(); });
  for (let i = 0; i < 100 && spawnSync('test', ['-e', b]).status !== 0; i++) await new Promise((r) => setTimeout(r, 50));

  const bundle = await bundleForNode(join(root, 'firmware', 'entry.ts'));
  const con = spawn(process.execPath, [bundle, 'console', '--socket', sock, '--device', a, '--baud', '9600'], { stdio: 'ignore' });
  t.teardown(() => { con.kill(); });

  // Non-blocking, so the poll below never stalls the test's event loop.
  const fd = openSync(b, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOCTTY);
  t.teardown(() => closeSync(fd));
  let seen = '';
  const buf = Buffer.alloc(4096);
  // Bounds only wait for a condition, so they are generous: at load 20 the console
  // process (a fresh node bundle) took over 15 s to draw its first prompt.
  const readUntil = async (re: RegExp, ms = 60_000): Promise<string> => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      try {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n > 0) seen += buf.toString('latin1', 0, n);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      const m = re.exec(seen);
      if (m) {
        const out = seen;
        seen = '';
        return out;
      }
      await new Promise((r) => setTimeout(r, 30));
    }
    throw new Error(`timed out waiting for ${re}; got ${JSON.stringify(seen.slice(-200))}`);
  };
  const type = (s: string) => writeSync(fd, s);

  await readUntil(/Router>$/, 120_000);
  t.pass('the prompt appears on the serial line');
  type('en\r');
  await readUntil(/Router#$/);
  type('sh ver | i Version\r');
  const out = await readUntil(/Router#$/);
  t.match(out, /Rampart Software \(RAMPART-SIM\), Version/);
  t.match(out, /\r\n/, 'serial lines get CR LF');
  type('conf t\rhostname Serial1\rend\r');
  await readUntil(/Serial1#$/);
  t.equal(daemon.config.system.hostname, 'Serial1', 'the daemon got the change typed on the serial line');
});
