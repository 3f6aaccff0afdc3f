import { strict as assert } from 'node:assert';
import { announcedBy, electIP, electL2, l2Members, rankNodes, winnersByService } from '../../../speaker/election.js';
import type { NodeInfo, ServiceInfo } from '../../../speaker/snapshot.js';
import type { L2AdvertisementModel } from '../../../shared/config/types.js';
import { ad, config, ip, node, service, snapshot } from './election-helpers.js';

const NODES = ['n1', 'n2', 'n3', 'n4'];
const VIP = '192.0.2.200';

describe('L2 election', () => {
  it('orders nodes by a fixed hash of node name and IP (pinned so versions agree)', () => {
    // If this changes, speakers of two versions elect different nodes during an upgrade.
    assert.deepEqual(rankNodes(NODES, VIP), rankNodes([...NODES].reverse(), VIP));
    const pinned = rankNodes(NODES, VIP);
    assert.deepEqual(pinned.slice().sort(), NODES);
    assert.deepEqual(rankNodes(['n1', 'n2', 'n3', 'n4', 'n2'], VIP), pinned);
    assert.deepEqual(pinned, ['n1', 'n4', 'n2', 'n3']);
    assert.deepEqual(rankNodes(NODES, '192.0.2.201'), ['n3', 'n4', 'n2', 'n1']);
    assert.deepEqual(rankNodes(NODES, '2001:db8:0:2::200'), ['n2', 'n4', 'n3', 'n1']);
  });

  it('spreads IPs over nodes (each of 4 nodes wins roughly a quarter of 400 IPs)', () => {
    const wins = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const first = rankNodes(NODES, `2001:db8::${i.toString(16)}`)[0] as string;
      wins.set(first, (wins.get(first) ?? 0) + 1);
    }
    for (const n of NODES) {
      const w = wins.get(n) ?? 0;
      assert.ok(w > 60 && w < 140, `${n} won ${w} of 400`);
    }
  });

  type Row = {
    name: string;
    ads: L2AdvertisementModel[];
    nodes?: NodeInfo[];
    services: ServiceInfo[];
    live?: string[];
    ip?: string;
    want: { reason: string; candidates?: string[]; services?: string[]; interfaces?: string[]; pool?: string };
  };
  const all = NODES.map((n) => node(n));
  const ranked = rankNodes(NODES, VIP);
  const [first, second, third] = ranked as [string, string, string, string];
  const rows: Row[] = [
    {
      name: 'every live node is a candidate, best first',
      ads: [ad('a', ['l2'])],
      services: [service('web', [VIP])],
      want: { reason: 'elected', candidates: ranked, services: ['default/web'], interfaces: [], pool: 'l2' },
    },
    {
      name: 'dead nodes are not candidates',
      ads: [ad('a', ['l2'])],
      services: [service('web', [VIP])],
      live: [second, third],
      want: { reason: 'elected', candidates: [second, third] },
    },
    {
      name: 'no live node: noLiveCandidate',
      ads: [ad('a', ['l2'])],
      services: [service('web', [VIP])],
      live: [],
      want: { reason: 'noLiveCandidate', candidates: [] },
    },
    {
      name: 'live speakers on nodes the snapshot does not know are ignored',
      ads: [ad('a', ['l2'])],
      services: [service('web', [VIP])],
      live: ['ghost'],
      want: { reason: 'noLiveCandidate', candidates: [] },
    },
    {
      name: 'nodeSelectors restrict candidates (any selector of any advertisement)',
      ads: [ad('a', ['l2'], [{ matchLabels: { zone: 'a' } }]), ad('b', ['l2'], [{ matchLabels: { zone: 'b' } }])],
      nodes: [node('n1', { zone: 'a' }), node('n2', { zone: 'b' }), node('n3', { zone: 'c' }), node('n4')],
      services: [service('web', [VIP])],
      want: { reason: 'elected', candidates: rankNodes(['n1', 'n2'], VIP) },
    },
    {
      name: 'an advertisement of another pool does not count',
      ads: [ad('a', ['bgp'])],
      services: [service('web', [VIP])],
      want: { reason: 'noL2Advertisement', candidates: [], services: [], pool: 'l2' },
    },
    {
      name: 'an IP in no pool is not announced',
      ads: [ad('a', ['l2'])],
      services: [service('web', ['198.51.100.7'])],
      ip: '198.51.100.7',
      want: { reason: 'noPool', candidates: [] },
    },
    {
      name: 'NetworkUnavailable or excluded nodes never announce',
      ads: [ad('a', ['l2'])],
      nodes: [node('n1', {}, false), node('n2'), node('n3', {}, false), node('n4')],
      services: [service('web', [VIP])],
      want: { reason: 'elected', candidates: rankNodes(['n2', 'n4'], VIP) },
    },
    {
      name: 'no node may announce: noEligibleNode',
      ads: [ad('a', ['l2'], [{ matchLabels: { zone: 'x' } }])],
      services: [service('web', [VIP])],
      want: { reason: 'noEligibleNode', candidates: [] },
    },
    {
      name: 'Cluster without a ready endpoint anywhere is withdrawn (MetalLB ShouldAnnounce)',
      ads: [ad('a', ['l2'])],
      services: [service('web', [VIP], { ready: false })],
      want: { reason: 'noEndpoints', candidates: [], services: [] },
    },
    {
      name: 'Cluster with endpoints on one node still uses every node',
      ads: [ad('a', ['l2'])],
      services: [service('web', [VIP], { endpoints: ['n4'] })],
      want: { reason: 'elected', candidates: ranked },
    },
    {
      name: 'Local: only nodes with a ready endpoint',
      ads: [ad('a', ['l2'])],
      services: [service('web', [VIP], { policy: 'Local', endpoints: ['n2', 'n3'] })],
      want: { reason: 'elected', candidates: rankNodes(['n2', 'n3'], VIP) },
    },
    {
      name: 'Local: endpoints only on dead nodes',
      ads: [ad('a', ['l2'])],
      services: [service('web', [VIP], { policy: 'Local', endpoints: ['n2'] })],
      live: ['n1', 'n3'],
      want: { reason: 'noLiveCandidate', candidates: [] },
    },
    {
      name: 'Local: endpoints only on nodes outside the selectors',
      ads: [ad('a', ['l2'], [{ matchLabels: { zone: 'a' } }])],
      nodes: [node('n1', { zone: 'a' }), node('n2')],
      services: [service('web', [VIP], { policy: 'Local', endpoints: ['n2'] })],
      want: { reason: 'noEligibleNode', candidates: [] },
    },
    {
      name: 'shared IP, both Local: only nodes serving both',
      ads: [ad('a', ['l2'])],
      services: [
        service('dns-tcp', [VIP], { policy: 'Local', endpoints: ['n1', 'n2', 'n3'] }),
        service('dns-udp', [VIP], { policy: 'Local', endpoints: ['n2', 'n3', 'n4'] }),
      ],
      want: { reason: 'elected', candidates: rankNodes(['n2', 'n3'], VIP), services: ['default/dns-tcp', 'default/dns-udp'] },
    },
    {
      name: 'shared IP, Local, no node in common: the best-covered nodes, one winner',
      ads: [ad('a', ['l2'])],
      services: [
        service('a', [VIP], { policy: 'Local', endpoints: ['n1'] }),
        service('b', [VIP], { policy: 'Local', endpoints: ['n2', 'n3'] }),
        service('c', [VIP], { policy: 'Local', endpoints: ['n3'] }),
      ],
      want: { reason: 'partial', candidates: ['n3'], services: ['default/b', 'default/c'] },
    },
    {
      name: 'shared IP, Cluster: a Service without endpoints does not take the IP down',
      ads: [ad('a', ['l2'])],
      services: [service('up', [VIP]), service('down', [VIP], { ready: false })],
      want: { reason: 'elected', candidates: ranked, services: ['default/up'] },
    },
    {
      name: 'interfaces: union over the advertisements selecting the winner',
      ads: [ad('a', ['l2'], [], ['eth1']), ad('b', ['l2'], [], ['eth0', 'eth1']), ad('c', ['l2'], [{ matchLabels: { x: 'y' } }], ['eth9'])],
      services: [service('web', [VIP])],
      want: { reason: 'elected', interfaces: ['eth0', 'eth1'] },
    },
    {
      name: 'interfaces: an advertisement without interfaces means all',
      ads: [ad('a', ['l2'], [], ['eth1']), ad('b', ['l2'])],
      services: [service('web', [VIP])],
      want: { reason: 'elected', interfaces: [] },
    },
    {
      name: 'IPv6 elects on its own order',
      ads: [ad('a', ['l2'])],
      services: [service('web', ['2001:db8:0:2::200'])],
      ip: '2001:db8:0:2::200',
      want: { reason: 'elected', candidates: rankNodes(NODES, '2001:db8:0:2::200') },
    },
  ];

  for (const row of rows) {
    it(row.name, () => {
      const snap = snapshot(config(row.ads), row.nodes ?? all, row.services);
      const live = new Set(row.live ?? NODES);
      const e = electIP(snap, live, ip(row.ip ?? VIP));
      assert.equal(e.reason, row.want.reason);
      if (row.want.candidates) assert.deepEqual(e.candidates, row.want.candidates);
      assert.equal(e.winner, e.candidates[0]);
      if (row.want.services) assert.deepEqual(e.services, row.want.services);
      if (row.want.interfaces) assert.deepEqual(e.interfaces, row.want.interfaces);
      if (row.want.pool) assert.equal(e.pool, row.want.pool);
      assert.deepEqual(e.holders, row.services.filter((s) => s.ips.some((i) => i.value === ip(row.ip ?? VIP).value)).map((s) => s.key).sort());
      // electL2 agrees with electIP, and leaves out the IPs no L2Advertisement could announce.
      const viaAll = electL2(snap, live).get(e.ipText);
      if (e.reason === 'noPool' || e.reason === 'noL2Advertisement') assert.equal(viaAll, undefined);
      else assert.deepEqual(viaAll, e);
    });
  }

  it('electL2 covers every IP once, keyed by canonical text, and announcedBy/winnersByService read it', () => {
    const snap = snapshot(config([ad('a', ['l2'])]), all, [
      service('dual', ['192.0.2.201', '2001:db8:0:2:0:0:0:201']),
      service('shared-a', [VIP]),
      service('shared-b', [VIP]),
    ]);
    const elections = electL2(snap, new Set(NODES));
    assert.deepEqual([...elections.keys()], ['192.0.2.200', '192.0.2.201', '2001:db8:0:2::201']);
    const mine = NODES.flatMap((n) => announcedBy(elections, n).map((e) => e.ipText)).sort();
    assert.deepEqual(mine, [...elections.keys()].sort());
    const byService = winnersByService(elections);
    const a = byService.get('default/shared-a')?.get(VIP);
    assert.equal(a, first);
    assert.equal(byService.get('default/shared-b')?.get(VIP), a);
    assert.equal(byService.get('default/dual')?.size, 2);
  });

  it('answers from its per-snapshot memo the same as from scratch', () => {
    const nodes = Array.from({ length: 20 }, (_, i) => node(`node-${i}`));
    const services = Array.from({ length: 60 }, (_, i) => service(`s${i}`, [`192.0.2.${200 + (i % 40)}`]));
    const cfg = config([ad('a', ['l2'])]);
    const snap = snapshot(cfg, nodes, services);
    const live1 = new Set(nodes.slice(0, 10).map((n) => n.name));
    const live2 = new Set(nodes.slice(5).map((n) => n.name));
    const first = electL2(snap, live1);
    const second = electL2(snap, live2);
    // A fresh but equal snapshot has no memo: the results must be the same.
    assert.deepEqual(electL2(snapshot(cfg, nodes, services), live2), second);
    assert.deepEqual(electL2(snapshot(cfg, nodes, services), live1), first);
    assert.equal(first.size, 40);
  });

  it('l2Members: the nodes any L2Advertisement selects, none without one', () => {
    const nodes = [node('n1', { zone: 'a' }), node('n2', { zone: 'b' }), node('n3', { zone: 'c' })];
    assert.deepEqual([...l2Members(snapshot(config([]), nodes, []))], []);
    assert.deepEqual([...l2Members(snapshot(config([ad('all', ['l2'])]), nodes, []))].sort(), ['n1', 'n2', 'n3']);
    const some = config([ad('a', ['l2'], [{ matchLabels: { zone: 'a' } }]), ad('b', ['bgp'], [{ matchLabels: { zone: 'b' } }])]);
    assert.deepEqual([...l2Members(snapshot(some, nodes, []))].sort(), ['n1', 'n2']);
  });
});

