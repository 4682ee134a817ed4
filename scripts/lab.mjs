// `npm start -- lab` (root): a first tunnel in network namespaces, built on this machine.
//
//   pc 10.1.0.10 --- Gi0/1 [Branch: this box, your console] Gi0/0 ==== Gi0/0 [HQ: Rampart] Gi0/1 --- server 10.2.0.10
//                    10.1.0.1                           172.16.0.1     172.16.0.2              10.2.0.1
//
// HQ is another Rampart box, configured and waiting (its startup-config is below). Branch
// boots with its interfaces addressed and no crypto: the README walkthrough types that.
// Quitting the console (Ctrl-A, then x) removes every namespace and process it made.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const LAB_ADDR = { pc: '10.1.0.10', branchLan: '10.1.0.1', branchWan: '172.16.0.1', hqWan: '172.16.0.2', hqLan: '10.2.0.1', server: '10.2.0.10' };

const BRANCH_CONFIG = `hostname Branch
interface GigabitEthernet0/0
 description WAN: link to HQ 172.16.0.2
 ip address 172.16.0.1 255.255.255.0
 no shutdown
interface GigabitEthernet0/1
 description LAN: office PC 10.1.0.10
 ip address 10.1.0.1 255.255.255.0
 no shutdown
end
`;

const HQ_CONFIG = `hostname HQ
crypto isakmp policy 10
 encryption aes 256
 hash sha256
 authentication pre-share
 group 14
crypto isakmp key lab-secret address 172.16.0.1
crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac
ip access-list extended VPN
 permit ip 10.2.0.0 0.0.0.255 10.1.0.0 0.0.0.255
crypto map VPN 10 ipsec-isakmp
 set peer 172.16.0.1
 set transform-set TS
 match address VPN
interface GigabitEthernet0/0
 description WAN: link to Branch 172.16.0.1
 ip address 172.16.0.2 255.255.255.0
 crypto map VPN
 no shutdown
interface GigabitEthernet0/1
 description LAN: server 10.2.0.10
 ip address 10.2.0.1 255.255.255.0
 no shutdown
end
`;

const step = (text) => process.stdout.write(`lab: ${text}\n`);

function ip(args) {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Builds the lab, runs the Branch console on this terminal, and tears everything down. */
export async function runLab(bundle) {
  if (process.getuid?.() !== 0) {
    console.error('npm start -- lab needs root: it creates network namespaces, veth pairs and raw sockets (run it as root, e.g. sudo npm start -- lab).');
    process.exit(1);
  }
  if (spawnSync('ip', ['-V']).status !== 0) {
    console.error('npm start -- lab needs iproute2 (the ip command): apt-get install iproute2');
    process.exit(1);
  }
  const tag = `rlab${process.pid}`;
  const ns = { pc: `${tag}-pc`, branch: `${tag}-branch`, hq: `${tag}-hq`, server: `${tag}-server` };
  const dir = mkdtempSync(join(tmpdir(), 'rampart-lab-'));
  const children = [];
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const n of Object.values(ns)) spawnSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
    step(`removed namespaces ${Object.values(ns).join(' ')} and ${dir}`);
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { cleanup(); process.exit(1); });

  step(`namespaces ${Object.values(ns).join(' ')}`);
  for (const n of Object.values(ns)) {
    ip(['netns', 'add', n]);
    ip(['-n', n, 'link', 'set', 'lo', 'up']);
  }
  const veth = (a, aIf, b, bIf) => {
    ip(['link', 'add', aIf, 'netns', a, 'type', 'veth', 'peer', 'name', bIf, 'netns', b]);
    ip(['-n', a, 'link', 'set', aIf, 'up']);
    ip(['-n', b, 'link', 'set', bIf, 'up']);
  };
  veth(ns.pc, 'eth0', ns.branch, 'lan0');
  veth(ns.branch, 'wan0', ns.hq, 'wan0');
  veth(ns.hq, 'lan0', ns.server, 'eth0');
  ip(['-n', ns.pc, 'addr', 'add', `${LAB_ADDR.pc}/24`, 'dev', 'eth0']);
  ip(['-n', ns.pc, 'route', 'add', 'default', 'via', LAB_ADDR.branchLan]);
  ip(['-n', ns.server, 'addr', 'add', `${LAB_ADDR.server}/24`, 'dev', 'eth0']);
  ip(['-n', ns.server, 'route', 'add', 'default', 'via', LAB_ADDR.hqLan]);
  for (const n of [ns.branch, ns.hq]) execFileSync('ip', ['netns', 'exec', n, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);

  const ports = ['--port', 'GigabitEthernet0/0=wan0', '--port', 'GigabitEthernet0/1=lan0'];
  for (const [name, text] of [['branch', BRANCH_CONFIG], ['hq', HQ_CONFIG]]) {
    mkdirSync(join(dir, name, 'nvram'), { recursive: true });
    writeFileSync(join(dir, name, 'nvram', 'startup-config'), text);
  }
  step('HQ: Rampart box with the crypto map configured, waiting for Branch');
  const hq = spawn('ip', ['netns', 'exec', ns.hq, process.execPath, bundle, 'daemon', '--profile', 'branch', '--state', join(dir, 'hq'), ...ports], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(hq);
  hq.stderr.on('data', (d) => process.stderr.write(`HQ: ${d}`));
  step(`office PC ${LAB_ADDR.pc} behind Branch (ip netns exec ${ns.pc} ping ${LAB_ADDR.server}), server ${LAB_ADDR.server} behind HQ`);
  step('Branch: your console follows (Ctrl-A, then x, quits the lab)');
  const branch = spawn('ip', ['netns', 'exec', ns.branch, process.execPath, bundle, 'sim', '--profile', 'branch', '--state', join(dir, 'branch'), ...ports], { stdio: 'inherit' });
  children.push(branch);
  const code = await new Promise((resolve) => branch.on('exit', (c) => resolve(c ?? 0)));
  cleanup();
  process.exit(code);
}
