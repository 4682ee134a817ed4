// Box-wide settings: hostname, enable secret/password, password encryption service.
import { FIRMWARE_VERSION } from '../lib/version.js';
import { defineSection } from './model.js';
import { secretType } from '../lib/password.js';

export interface SystemConfig {
  hostname: string;
  /** Type 9 hash (`$9$...`) of the enable secret (8 or 5 when pasted or asked for). */
  enableSecret?: string;
  /** `enable password`: stored as typed (type 0) or obfuscated (type 7). */
  enablePassword?: { type: 0 | 7; value: string };
  servicePasswordEncryption: boolean;
  /** `service timestamps debug|log ...`; false: `no service timestamps ...`. */
  timestampsDebug: TimestampSpec | false;
  timestampsLog: TimestampSpec | false;
  domainLookup: boolean;
  /** `ip domain name X` (also typed `ip domain-name X`): FQDN identity = hostname.domain. */
  domainName?: string;
}

/** How log and debug lines are stamped (IOS `service timestamps`). */
export type TimestampSpec =
  | { kind: 'datetime'; msec: boolean; localtime: boolean; showTimezone: boolean; year: boolean }
  | { kind: 'uptime' };

export const DEFAULT_TIMESTAMP: TimestampSpec = { kind: 'datetime', msec: true, localtime: false, showTimezone: false, year: false };

/** `datetime msec localtime show-timezone year` / `uptime`, as running-config prints it. */
export function timestampWords(t: TimestampSpec): string {
  if (t.kind === 'uptime') return 'uptime';
  return ['datetime', t.msec ? 'msec' : '', t.localtime ? 'localtime' : '', t.showTimezone ? 'show-timezone' : '', t.year ? 'year' : ''].filter((w) => w).join(' ');
}

declare module './model.js' {
  interface Config { system: SystemConfig }
}

export const DEFAULT_HOSTNAME = 'Router';

defineSection({
  key: 'system',
  order: 10,
  create: () => ({ hostname: DEFAULT_HOSTNAME, servicePasswordEncryption: false, timestampsDebug: { ...DEFAULT_TIMESTAMP }, timestampsLog: { ...DEFAULT_TIMESTAMP }, domainLookup: true }),
  render: (cfg) => {
    const s = cfg.system;
    const services = [
      s.timestampsDebug ? `service timestamps debug ${timestampWords(s.timestampsDebug)}` : 'no service timestamps debug',
      s.timestampsLog ? `service timestamps log ${timestampWords(s.timestampsLog)}` : 'no service timestamps log',
      s.servicePasswordEncryption ? 'service password-encryption' : 'no service password-encryption',
    ];
    const enable: string[] = [];
    if (s.enableSecret) enable.push(`enable secret ${secretType(s.enableSecret) ?? 9} ${s.enableSecret}`);
    if (s.enablePassword) enable.push(`enable password ${s.enablePassword.type === 7 ? '7 ' : ''}${s.enablePassword.value}`);
    return [[`version ${FIRMWARE_VERSION.split('.').slice(0, 2).join('.')}`, ...services], [`hostname ${s.hostname}`], enable,
      [...(s.domainLookup ? [] : ['no ip domain lookup']), ...(s.domainName !== undefined ? [`ip domain name ${s.domainName}`] : [])]];
  },
});
