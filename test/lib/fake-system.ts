// A SystemServices for tests: startup-config in memory, a fixed clock, a fake board.
import type { SystemServices } from '../../firmware/cli/context.js';

export interface FakeSystem extends SystemServices {
  startup: string | undefined;
  reloads: number;
  changes: number;
}

export function fakeSystem(nowMs = Date.UTC(2026, 10, 26, 21, 40, 12, 123)): FakeSystem {
  const sys: FakeSystem = {
    board: { name: 'sim', model: 'Rampart SIM', description: 'Linux x86_64', ports: ['FastEthernet0/0', 'FastEthernet0/1', 'GigabitEthernet0/1', 'Serial2/0'], serial: 'RSM0FAKE1' },
    version: '0.1.0',
    bootTime: nowMs - 3_723_000,
    now: () => nowMs,
    startup: undefined,
    reloads: 0,
    changes: 0,
    readStartup: async () => sys.startup,
    writeStartup: async (text) => { sys.startup = text; },
    eraseStartup: async () => { sys.startup = undefined; },
    reload: () => { sys.reloads++; },
    configChanged: () => { sys.changes++; },
    runtime: {},
  };
  return sys;
}
