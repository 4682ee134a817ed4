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
  timestampsDebug: boolean;
  timestampsLog: boolean;
  domainLookup: boolean;
  /** `ip domain name X` (also typed `ip domain-name X`): FQDN identity = hostname.domain. */
  domainName?: string;
}

declare module './model.js' {
  interface Config { system: SystemConfig }
}

export const DEFAULT_HOSTNAME = 'Router';

defineSection({
  key: 'system',
  order: 10,
  create: () => ({ hostname: DEFAULT_HOSTNAME, servicePasswordEncryption: false, timestampsDebug: true, timestampsLog: true, domainLookup: true }),
  render: (cfg) => {
    const s = cfg.system;
    const services = [
      s.timestampsDebug ? 'service timestamps debug datetime msec' : 'no service timestamps debug',
      s.timestampsLog ? 'service timestamps log datetime msec' : 'no service timestamps log',
      s.servicePasswordEncryption ? 'service password-encryption' : 'no service password-encryption',
    ];
    const enable: string[] = [];
    if (s.enableSecret) enable.push(`enable secret ${secretType(s.enableSecret) ?? 9} ${s.enableSecret}`);
    if (s.enablePassword) enable.push(`enable password ${s.enablePassword.type === 7 ? '7 ' : ''}${s.enablePassword.value}`);
    return [[`version ${FIRMWARE_VERSION.split('.').slice(0, 2).join('.')}`, ...services], [`hostname ${s.hostname}`], enable,
      [...(s.domainLookup ? [] : ['no ip domain lookup']), ...(s.domainName !== undefined ? [`ip domain name ${s.domainName}`] : [])]];
  },
});
