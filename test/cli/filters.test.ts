import t from 'tap';
import { applyFilters, parseFilters } from '../../firmware/cli/filters.js';

const text = ['hostname R1', '!', 'interface Fa0/0', ' ip address 10.0.0.1 255.0.0.0', ' crypto map VPN', 'interface Fa0/1', ' shutdown', 'end'];
const run = (f: string) => applyFilters(text, parseFilters(f)!);

t.test('include, exclude, begin, count', async (t) => {
  t.same(run('include interface'), ['interface Fa0/0', 'interface Fa0/1']);
  t.same(run('i ^ '), [' ip address 10.0.0.1 255.0.0.0', ' crypto map VPN', ' shutdown']);
  t.same(run('exclude (^ )|!'), ['hostname R1', 'interface Fa0/0', 'interface Fa0/1', 'end']);
  t.same(run('begin Fa0/1'), ['interface Fa0/1', ' shutdown', 'end']);
  t.same(run('count interface'), ['Number of lines which match regexp = 2']);
  t.same(run('count'), ['Number of lines which match regexp = 8']);
});

t.test('section keeps a matching block with its indented lines', async (t) => {
  t.same(run('section crypto'), ['interface Fa0/0', ' ip address 10.0.0.1 255.0.0.0', ' crypto map VPN']);
  t.same(run('section include Fa0/1'.replace('include ', '')), ['interface Fa0/1', ' shutdown']);
});

t.test('chains and malformed filters', async (t) => {
  t.same(applyFilters(text, parseFilters('include interface | count')!), ['Number of lines which match regexp = 2']);
  t.equal(parseFilters('include'), undefined);
  t.equal(parseFilters('bogus x'), undefined);
  t.equal(parseFilters('include ('), undefined);
  t.same(parseFilters('json'), [{ kind: 'json' }]);
});
