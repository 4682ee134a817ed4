// The vm board reads the VM's network cards from sysfs: PCI cards in PCI address order
// become GigabitEthernet0/0, 0/1, ...; virtual interfaces are not ports; a card that is not
// on PCI is reported and left out. A fake sysfs tree stands in for the VM's.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vmBoard } from '../../board/vm.js';
import { loadBoard } from '../../board/index.js';

const sys = mkdtempSync(join(tmpdir(), 'rampart-sysfs-'));
t.teardown(() => rmSync(sys, { recursive: true, force: true }));

function nic(ifname: string, devicePath?: string): void {
  const dir = join(sys, 'class', 'net', ifname);
  mkdirSync(dir, { recursive: true });
  if (devicePath) {
    mkdirSync(join(sys, devicePath), { recursive: true });
    symlinkSync(join(sys, devicePath), join(dir, 'device'));
  }
}
// Names do not follow PCI order on purpose: the ports must.
nic('eth0', 'devices/pci0000:00/0000:00:05.0/virtio2');
nic('eth1', 'devices/pci0000:00/0000:00:03.0/virtio0');
nic('ens4', 'devices/pci0000:00/0000:00:04.0');
nic('lo');
nic('usb0', 'devices/platform/dwc3.0/gadget');

t.test('ports are the PCI cards in PCI order with IOS names', async (t) => {
  const reports: string[] = [];
  const b = vmBoard({ sysfs: sys, stateDir: '/flash', report: (l) => reports.push(l) });
  t.same(b.ports, ['GigabitEthernet0/0', 'GigabitEthernet0/1', 'GigabitEthernet0/2']);
  t.same(b.portMap, { 'GigabitEthernet0/0': 'eth1', 'GigabitEthernet0/1': 'ens4', 'GigabitEthernet0/2': 'eth0' });
  t.equal(b.consoleDevice, '/dev/ttyS0');
  t.equal(b.stateDir, '/flash');
  t.equal(reports.length, 1);
  t.match(reports[0], /%BOARD-4-NIC: network interface usb0 is not a PCI card/, 'the unknown card is reported, not fatal');
});

t.test('no sysfs: a box without ports, said so', async (t) => {
  const reports: string[] = [];
  const b = vmBoard({ sysfs: join(sys, 'missing'), report: (l) => reports.push(l) });
  t.same(b.ports, []);
  t.match(reports.join('\n'), /cannot list network interfaces/);
});

t.test('loadBoard knows vm beside sim', async (t) => {
  t.equal(loadBoard('vm', { stateDir: '/tmp/x' }).name, 'vm');
  t.equal(loadBoard('sim', {}).name, 'sim');
  t.throws(() => loadBoard('nope', {}), /known: sim, vm/);
});
