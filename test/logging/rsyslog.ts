// A Debian rsyslogd in a test namespace listening on 127.0.0.1:514 (UDP), writing every
// message it parsed through one template line to a file the test reads.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCommand, rootOnly, type Lab, type LabProcess } from '../lib/netns.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why an rsyslog test cannot run here, or undefined. */
export const rsyslogSkip: string | undefined = rootOnly('network namespaces').skip
  ?? (hasCommand('rsyslogd') ? undefined : 'rsyslogd is not installed (apt-get install rsyslog; scripts/ensure.mjs does it)');

export interface Rsyslog {
  proc: LabProcess;
  /** Everything received so far, one template line per message. */
  text(): string;
  /** Polls text() until `re` matches (bounded), then returns it. */
  waitFor(re: RegExp, ms?: number): Promise<string>;
}

/** `template`: an rsyslog string template body (properties such as %pri% %hostname% %msg%). */
export async function startRsyslog(lab: Lab, ns: string, template: string): Promise<Rsyslog> {
  const received = join(lab.dir, 'received.log');
  const conf = join(lab.dir, 'rsyslog.conf');
  writeFileSync(conf, [
    `global(workDirectory="${lab.dir}" net.enableDNS="off")`,
    'module(load="imudp")',
    'input(type="imudp" address="127.0.0.1" port="514")',
    `template(name="t" type="string" string="${template}\\n")`,
    `*.* action(type="omfile" file="${received}" template="t")`,
    '',
  ].join('\n'));
  const proc = lab.spawn(ns, ['rsyslogd', '-n', '-f', conf, '-i', join(lab.dir, 'rsyslog.pid')], { name: 'rsyslogd' });
  for (let i = 0; i < 100 && !lab.execSync(ns, ['ss', '-lun'], { allowFail: true }).stdout.includes('127.0.0.1:514'); i++) await sleep(50);
  const text = () => (existsSync(received) ? readFileSync(received, 'utf8') : '');
  return {
    proc, text,
    async waitFor(re, ms = 10_000) {
      const end = Date.now() + ms;
      while (!re.test(text()) && Date.now() < end) await sleep(100);
      return text();
    },
  };
}
