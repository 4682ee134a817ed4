// ICMP echo probes from the box's own network namespace for `ping` and `traceroute`. Each
// probe is one run of the system's `ping` (iputils or busybox) in the daemon's namespace:
// it binds the source address, so the kernel's route lookup sees it and policy routing
// (the crypto map's steering rules, `from LAN to LAN`) applies to the box's own probes as
// it does to LAN traffic. A raw socket cannot do that: the kernel routes a raw packet by
// the socket's (unbound) address, not by the source written in its IP header.
import { spawn } from 'node:child_process';
import type { IcmpProbe, IcmpResult, IcmpService } from '../cli/commands/ping.js';
import type { Config } from '../config/model.js';
import { parseIpv4 } from '../lib/ip.js';
import type { DaemonService, ServiceContext } from './daemon.js';

/** `ping` arguments for one probe; `size` counts the whole datagram as IOS does. */
export function pingArgv(p: IcmpProbe): string[] {
  for (const a of [p.destination, p.source]) if (a !== undefined && parseIpv4(a) === undefined) throw new Error(`not an IPv4 address: ${a}`);
  const argv = ['-n', '-c', '1', '-W', String(Math.max(1, Math.ceil(p.timeoutMs / 1000))), '-s', String(Math.max(0, p.sizeBytes - 28))];
  if (p.ttl !== undefined) argv.push('-t', String(p.ttl));
  if (p.source !== undefined) argv.push('-I', p.source);
  argv.push(p.destination);
  return argv;
}

/** What one `ping -c 1` printed, as a probe result. */
export function parsePingOutput(text: string, elapsedMs: number): IcmpResult {
  const reply = /bytes from ([\d.]+):.*time[=<]([\d.]+) ms/.exec(text);
  if (reply) return { kind: 'reply', from: reply[1]!, rttMs: Math.round(Number(reply[2])) };
  const exceeded = /From ([\d.]+).*Time to live exceeded/i.exec(text);
  if (exceeded) return { kind: 'ttl-exceeded', from: exceeded[1]!, rttMs: Math.round(elapsedMs) };
  const unreachable = /From ([\d.]+).*(Destination \w+ Unreachable|Unreachable)/i.exec(text);
  if (unreachable) return { kind: 'unreachable', from: unreachable[1]!, rttMs: Math.round(elapsedMs), code: 1 };
  return { kind: 'timeout' };
}

export class IcmpProbeService implements DaemonService, IcmpService {
  readonly name = 'icmp';
  private readonly running = new Set<ReturnType<typeof spawn>>();

  async start(ctx: ServiceContext): Promise<void> {
    ctx.runtime.provide('icmp', this, this.name);
  }

  apply(_config: Config): void { /* probes need no configuration */ }

  probe(p: IcmpProbe): Promise<IcmpResult> {
    const argv = pingArgv(p);
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const child = spawn('ping', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.running.add(child);
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
      // ping's own -W bounds the wait; this only guards against a ping that hangs.
      const guard = setTimeout(() => child.kill('SIGKILL'), p.timeoutMs + 5000);
      child.on('error', (err) => {
        clearTimeout(guard);
        this.running.delete(child);
        reject(new Error(`cannot run ping: ${err.message}`));
      });
      child.on('close', () => {
        clearTimeout(guard);
        this.running.delete(child);
        if (/Operation not permitted|permission denied/i.test(out)) reject(new Error('ping is not permitted here (needs root or CAP_NET_RAW)'));
        else if (/Cannot assign requested address|bind: /i.test(out)) reject(new Error(`Invalid source address ${p.source ?? ''}`.trim()));
        else resolve(parsePingOutput(out, performance.now() - t0));
      });
    });
  }

  async stop(): Promise<void> {
    for (const c of this.running) c.kill('SIGKILL');
    this.running.clear();
  }
}
