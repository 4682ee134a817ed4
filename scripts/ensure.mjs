// Installs what the two quick-start commands need on a fresh clone: npm packages
// (when node_modules is missing or older than the lock file) and, for the tests,
// Debian packages when running as root. Only node builtins here: this runs before
// any dependency exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export function ensureNpm() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
    console.error('rampart: installing npm packages (npm ci, about a minute on a fresh clone)...');
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--progress=false', '--loglevel=error'], { cwd: root, stdio: ['ignore', 2, 2] });
  }
  ensureNative();
}

/**
 * The fast-path addon (drivers/native) is a local package; npm builds it on install, but
 * a C source edited since (or an install that skipped scripts) needs `node-gyp rebuild`.
 * Its headers come from the local node (nodedir), nothing is downloaded.
 */
export function ensureNative() {
  const dir = join(root, 'drivers', 'native');
  const out = join(dir, 'build', 'Release', 'rampart_native.node');
  const sources = ['binding.gyp', ...readdirSync(join(dir, 'src')).map((f) => join('src', f))];
  const newest = Math.max(...sources.map((f) => statSync(join(dir, f)).mtimeMs));
  if (existsSync(out) && statSync(out).mtimeMs >= newest) return;
  console.error('rampart: building the native fast-path addon (node-gyp)...');
  const r = spawnSync('npm', ['exec', '--yes', '--', 'node-gyp', 'rebuild'], { cwd: dir, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) console.error('rampart: the native addon did not build; the data plane falls back to node:crypto and raw-socket');
}

/** Debian packages the root-only tests use (strongSwan peer, scapy, iperf3, socat, tshark, TextFSM). */
export const debianTestPackages = [
  'strongswan-charon', 'strongswan-swanctl', 'libcharon-extra-plugins', 'libstrongswan-extra-plugins', 'libstrongswan-standard-plugins',
  'iproute2', 'iputils-ping', 'socat', 'iperf3', 'python3-scapy', 'nftables', 'tshark', 'tcpdump', 'openssh-client', 'kmod',
  // SSH tests drive the box with the real OpenSSH client; the bench compares with sshd.
  'sshpass', 'openssh-server',
  'python3-textfsm', // test/show/ntc-templates.test.ts: the ntc-templates parsers
  // syslog tests send to a real rsyslogd started in a test namespace.
  'rsyslog',
  // the appliance image (npm run firmware) and its QEMU boot tests
  'busybox-static', 'cpio', 'zstd', 'e2fsprogs', 'file', 'qemu-system-x86',
  // the factory disk with A/B slots: GRUB for BIOS (boot.img, core image modules, grub-mkimage, grub-editenv)
  'grub-pc-bin', 'grub-common',
];

export function ensureDebian(pkgs = debianTestPackages) {
  if (process.getuid?.() !== 0) return;
  const missing = pkgs.filter((p) => spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout?.includes('install ok installed') !== true);
  if (missing.length === 0) return;
  console.error(`rampart: installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 2, 2], env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: ['ignore', 2, 2], env });
  if (r.status !== 0) console.error('rampart: apt-get install failed; tests that need these packages will say so');
  // charon must not run as a system service: tests start their own per namespace.
  spawnSync('sh', ['-c', 'systemctl disable --now strongswan-starter strongswan 2>/dev/null; pkill -x charon 2>/dev/null; true']);
  // Nor sshd: the SSH bench starts its own inside a namespace.
  spawnSync('sh', ['-c', 'systemctl disable --now ssh ssh.socket 2>/dev/null; true']);
  // Nor rsyslog: the syslog test starts its own inside a namespace.
  spawnSync('sh', ['-c', 'systemctl disable --now rsyslog syslog.socket 2>/dev/null; true']);
}
