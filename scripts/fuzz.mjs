// `npm run fuzz [-- --count N] [--seconds S] [--seed X]`: the hostile-input campaign against a
// live daemon (test/lib/ike-fuzz-campaign.ts): default 1,000,000 datagrams or 600 s, whichever
// comes first. Needs root (network namespaces). Prints `fuzz NAME: ...` lines.
import { importTs } from './run-ts.mjs';
import { ensureNpm } from './ensure.mjs';

ensureNpm();
const args = process.argv.slice(2);
const flag = (name, def) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`--${name} needs a positive number`);
    process.exit(2);
  }
  return v;
};
const count = flag('count', 1_000_000);
const seconds = flag('seconds', 600);
const seed = flag('seed', 0x5eed);
if (process.getuid?.() !== 0) {
  console.error('npm run fuzz needs root (network namespaces)');
  process.exit(2);
}
const { runCampaign, formatReport } = await importTs('test/lib/ike-fuzz-campaign.ts');
const teardowns = [];
let code = 0;
try {
  const r = await runCampaign({ teardown: (fn) => teardowns.push(fn) }, { count, seconds, seed, log: (l) => console.error(`# ${l}`) });
  for (const l of formatReport(r)) console.log(l);
  const ok = r.pidBefore === r.pidAfter && r.daemonRunning && r.gwTunnelUp && r.fuzzerV1Alive && r.fuzzerV2Alive;
  console.log(`fuzz result: ${ok ? 'PASS' : 'FAIL'}`);
  code = ok ? 0 : 1;
} catch (e) {
  console.error(e);
  code = 1;
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
process.exit(code);
