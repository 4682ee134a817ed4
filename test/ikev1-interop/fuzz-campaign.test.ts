// CI slice of the hostile-input campaign (`npm run fuzz` runs the long one): 40,000 mutated and
// replayed datagrams (raw ESP among them) in at most 30 s against a live daemon with tunnels up.
import t from 'tap';
import { isRoot, hasCommand } from '../lib/netns.js';
import { formatReport, runCampaign } from '../lib/ike-fuzz-campaign.js';

const skip = !isRoot() ? 'needs root: network namespaces' : !hasCommand('ip') ? 'needs iproute2' : undefined;

t.test('fuzz campaign slice against a live daemon', { skip, timeout: 300_000 }, async (t) => {
  const r = await runCampaign(t, { count: 40_000, seconds: 30, log: (l) => t.comment(l) });
  for (const l of formatReport(r)) t.comment(l);
  t.ok(r.corpus >= 10, `a real corpus was captured (${r.corpus} datagrams)`);
  t.ok(r.datagrams >= 5000, `datagrams sent: ${r.datagrams}`);
  t.equal(r.pidAfter, r.pidBefore, 'daemon PID unchanged');
  t.ok(r.daemonRunning, 'daemon running');
  t.ok(r.gwTunnelUp, 'the gwA-gwB tunnel is up after the flood');
  t.ok(r.pingLoss.after <= 20, `ping after the flood: ${r.pingLoss.after.toFixed(1)} % loss`);
  t.ok(r.fuzzerV1Alive, 'the fuzzer\'s own IKEv1 SA still runs a Quick Mode');
  t.ok(r.fuzzerV2Alive, 'the fuzzer\'s own IKEv2 SA still answers');
  t.ok(r.rssAfterKb - r.rssBeforeKb < 200 * 1024, `RSS growth ${((r.rssAfterKb - r.rssBeforeKb) / 1024).toFixed(1)} MB under 200 MB`);
  t.match(r.admission, /Incoming IKE Requests:\s+\d+/, 'call admission statistics answer');
  // raw ESP (IP protocol 50) from the fuzzer's IKEv1 SA address: every kind moved its counter
  t.ok(r.rawEsp.sent >= 1000, `raw ESP datagrams sent: ${r.rawEsp.sent}`);
  t.ok(r.rawEsp.decaps >= 1, `valid raw ESP decapsulated (${r.rawEsp.decaps})`);
  t.ok(r.rawEsp.replayFailed >= 1, `replayed raw ESP counted (${r.rawEsp.replayFailed})`);
  t.ok(r.rawEsp.verifyFailed >= 1, `forged raw ESP counted as verify failures (${r.rawEsp.verifyFailed})`);
  t.ok(r.rawEsp.noSa >= 1, `raw ESP with unknown SPIs counted (${r.rawEsp.noSa})`);
  t.ok(r.ssh.garbageConnections >= 5, `garbage sent to the SSH server (${r.ssh.garbageConnections} connections)`);
  t.ok(r.ssh.greetsAfter, 'the SSH server still greets after the flood');
});
