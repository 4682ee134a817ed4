// Syslog to remote servers (`logging host`): RFC 3164 messages over UDP,
//   <189>Mar  1 00:01:02 Router %SYS-5-CONFIG_I: Configured from console by console
// (PRI = facility * 8 + severity; the IOS mnemonic is the TAG), or with `logging trap
// syslog-format rfc5424` RFC 5424 messages,
//   <189>1 2026-03-01T00:01:02.345Z Router - - CONFIG_I [meta sequenceId="42"] %SYS-5-CONFIG_I: ... UDP never waits for the
// server: a dead or unreachable host costs one datagram per line and shows as
// `dropped` when the kernel reports an error; nothing ever blocks the daemon.
import { createSocket, type Socket } from 'node:dgram';
import type { BusEvent } from '../lib/event-bus.js';
import type { DestCounters, LoggingSettings, SyslogOutput } from './logging-service.js';

const FACILITY_CODE: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  sys9: 9, sys10: 10, sys11: 11, sys12: 12, sys13: 13, sys14: 14,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `%FAC-SEV-MNEMONIC: text` (a message) or the debug text, after `000042: ` with sequence numbers. */
function body(ev: BusEvent, seq: number | undefined): string {
  const text = ev.kind === 'message' ? `%${ev.facility}-${ev.level}-${ev.mnemonic}: ${ev.text}` : ev.text;
  return seq !== undefined ? `${String(seq).padStart(6, '0')}: ${text}` : text;
}

const pri = (ev: BusEvent, facility: string): number => (FACILITY_CODE[facility] ?? 23) * 8 + ev.level;

/** One RFC 3164 message for an event. */
export function formatRfc3164(ev: BusEvent, facility: string, hostname: string, seq?: number): string {
  const d = new Date(ev.timeMs);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const stamp = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
  return `<${pri(ev, facility)}>${stamp} ${hostname} ${body(ev, seq)}`;
}

/**
 * One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME - - MSGID [SD] MSG`. The timestamp is UTC
 * with milliseconds when `service timestamps log|debug ... msec` asks for them; MSGID is the
 * IOS mnemonic; structured data carries `service sequence-numbers` as `[meta sequenceId]`
 * and `logging origin-id ip` as `[origin ip]` (RFC 5424 section 7).
 */
export function formatRfc5424(ev: BusEvent, s: Pick<LoggingSettings, 'facility' | 'hostname' | 'originHost' | 'originIp' | 'stampLog' | 'stampDebug'>, seq?: number): string {
  const iso = new Date(ev.timeMs).toISOString();
  const stamp = (ev.kind === 'debug' ? s.stampDebug : s.stampLog);
  const time = stamp && stamp.kind === 'datetime' && stamp.msec ? iso : `${iso.slice(0, 19)}Z`;
  const sd = [
    ...(seq !== undefined ? [`[meta sequenceId="${((seq - 1) % 2147483647) + 1}"]`] : []),
    ...(s.originIp ? [`[origin ip="${s.originIp}"]`] : []),
  ].join('');
  const msgId = ev.kind === 'message' ? ev.mnemonic.slice(0, 32) : '-';
  return `<${pri(ev, s.facility)}>1 ${time} ${(s.originHost ?? s.hostname) || '-'} - - ${msgId} ${sd || '-'} ${body(ev, undefined)}`;
}

export class SyslogSink implements SyslogOutput {
  private sock: Socket | undefined;
  private boundTo: string | undefined;
  /** A source address that could not be bound: send unbound rather than not at all. */
  private unbindable: string | undefined;
  private readonly stats = new Map<string, DestCounters & { dropped: number }>();

  send(ev: BusEvent, _line: string, s: LoggingSettings, seq?: number): void {
    const sock = this.socket(s.sourceAddress);
    const msg = Buffer.from(s.syslogFormat === 'rfc5424' ? formatRfc5424(ev, s, seq) : formatRfc3164(ev, s.facility, s.originHost ?? s.hostname, seq));
    for (const h of s.hosts) {
      const st = this.stat(h.address, h.port);
      st.logged++;
      try {
        sock.send(msg, h.port, h.address, (err) => { if (err) st.dropped++; });
      } catch {
        st.dropped++;
      }
    }
  }

  counters(address: string, port: number): DestCounters & { dropped: number } {
    return { ...this.stat(address, port) };
  }

  close(): void {
    this.sock?.close();
    this.sock = undefined;
  }

  private stat(address: string, port: number): DestCounters & { dropped: number } {
    const k = `${address}|${port}`;
    let st = this.stats.get(k);
    if (!st) this.stats.set(k, (st = { logged: 0, rateLimited: 0, dropped: 0 }));
    return st;
  }

  /** One socket, bound to `logging source-interface`'s address when there is one. */
  private socket(source: string | undefined): Socket {
    if (this.sock && this.boundTo === source) return this.sock;
    this.close();
    const sock = createSocket('udp4');
    sock.unref();
    // errors (ICMP unreachable reported late, a source address that went away) are counted
    // by the send callbacks; the socket itself must never throw into the daemon
    sock.on('error', () => {
      if (this.sock !== sock) return;
      if (source) this.unbindable = source;
      this.close();
    });
    if (source && source !== this.unbindable) sock.bind({ address: source, port: 0, exclusive: true });
    this.sock = sock;
    this.boundTo = source;
    return sock;
  }
}
