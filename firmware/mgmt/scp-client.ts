// `copy flash:FILE scp://user@host/path`: the box as an SSH client (ssh2) writing the file
// over SFTP, which every current OpenSSH server offers. The password is never logged.
import ssh2 from 'ssh2';

export interface ScpTarget { user: string; host: string; port: number; path: string; password: string }

export function scpPut(data: Uint8Array, target: ScpTarget, timeoutMs = 30_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      if (err) reject(err);
      else resolve(data.length);
    };
    const timer = setTimeout(() => finish(new Error('timed out')), timeoutMs);
    client.on('error', (err: Error) => finish(err));
    client.on('ready', () => {
      client.sftp((err, sftp) => {
        if (err) return finish(err);
        const ws = sftp.createWriteStream(target.path);
        ws.on('error', (e: Error) => finish(e));
        ws.on('close', () => finish());
        ws.end(Buffer.from(data));
      });
    });
    // IOS does not check the server's host key unless told to (ip ssh stricthostkeycheck).
    client.connect({ host: target.host, port: target.port, username: target.user, password: target.password, readyTimeout: timeoutMs, hostVerifier: () => true });
  });
}
