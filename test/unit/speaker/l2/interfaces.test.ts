import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  addressedInterfaces,
  DEFAULT_EXCLUDED_INTERFACES,
  eligibleInterfaces,
  eligibleOnly,
  globMatch,
  type InterfaceFacts,
} from '../../../../speaker/l2/interfaces.js';
import { iface } from './responder-fakes.js';

/** A node with one of every kind of interface the filter has a rule for. */
const NODE: InterfaceFacts[] = [
  iface(1, 'lo', { loopback: true, mac: undefined, linkType: 772 }),
  iface(2, 'eth0'),
  iface(3, 'eth1', { bridgePort: true }), // a port of br0
  iface(4, 'br0'),
  iface(5, 'ens1f0', { bondMember: true }),
  iface(6, 'ens1f1', { bondMember: true }),
  iface(7, 'bond0'),
  iface(8, 'kube-ipvs0', { noArp: true }),
  iface(9, 'cni0'),
  iface(10, 'flannel.1'),
  iface(11, 'cali1234abcd', { veth: true }),
  iface(12, 'veth9f2a', { veth: true }),
  iface(13, 'cilium_host', { veth: true }),
  iface(14, 'vxlan.calico'),
  iface(15, 'docker0'),
  iface(16, 'lxc1a2b', { veth: true }),
  iface(17, 'tunl0', { noArp: true, linkType: 768, mac: undefined }),
  iface(18, 'wg0', { linkType: 65534, mac: undefined }),
  iface(19, 'weave'),
  iface(20, 'eth0.100'), // a VLAN: its own interface, answered like any other
  iface(21, 'nodelocaldns', { noArp: true }),
  iface(22, 'eth2', { veth: true }), // a kind node's or a lab node's uplink: a veth with the node's address
];

function decisions(named: string[], addressed = new Set(['eth0', 'br0', 'bond0', 'eth0.100', 'eth2'])) {
  return Object.fromEntries(eligibleInterfaces(NODE, named, { addressed }).map((d) => [d.name, d.eligible ? `yes (${d.reason})` : d.reason]));
}

describe('speaker/l2/interfaces', () => {
  it('by default answers on the node\'s own links and skips the rest, each with its reason', () => {
    assert.deepEqual(decisions([]), {
      lo: 'loopback',
      eth0: 'yes (default)',
      eth1: 'bridgePort',
      br0: 'yes (default)',
      ens1f0: 'bondMember',
      ens1f1: 'bondMember',
      bond0: 'yes (default)',
      'kube-ipvs0': 'noArp',
      cni0: 'excludedName',
      'flannel.1': 'excludedName',
      cali1234abcd: 'podVeth',
      veth9f2a: 'podVeth',
      cilium_host: 'podVeth',
      'vxlan.calico': 'excludedName',
      docker0: 'excludedName',
      lxc1a2b: 'podVeth',
      tunl0: 'notEthernet',
      wg0: 'notEthernet',
      weave: 'excludedName',
      'eth0.100': 'yes (default)',
      nodelocaldns: 'noArp',
      eth2: 'yes (default)',
    });
  });

  it('with named interfaces answers on exactly those, if they can do ARP at all', () => {
    const d = decisions(['eth1', 'cni0', 'kube-ipvs0', 'lo', 'nosuch']);
    assert.equal(d.eth1, 'yes (named)', 'a bridge port the user names is theirs to choose');
    assert.equal(d.cni0, 'yes (named)', 'so is an excluded name');
    assert.equal(d['kube-ipvs0'], 'noArp');
    assert.equal(d.lo, 'loopback');
    for (const other of ['eth0', 'br0', 'bond0', 'eth2']) assert.equal(d[other], 'notNamed', other);
    assert.ok(!('nosuch' in d), 'a name with no interface yields nothing');
  });

  it('a veth is a pod\'s unless it carries an address', () => {
    assert.equal(decisions([], new Set())['eth2'], 'podVeth');
    assert.equal(decisions([], new Set(['veth9f2a']))['veth9f2a'], 'yes (default)');
  });

  it('takes the exclusion list from the policy (empty: exclude no name)', () => {
    const none = eligibleInterfaces(NODE, [], { exclude: [], addressed: new Set() });
    assert.ok(eligibleOnly(none).some((i) => i.name === 'cni0'));
    const custom = eligibleInterfaces(NODE, [], { exclude: ['eth0*'], addressed: new Set() });
    assert.deepEqual(
      eligibleOnly(custom).map((i) => i.name),
      ['br0', 'bond0', 'cni0', 'flannel.1', 'vxlan.calico', 'docker0', 'weave'],
    );
  });

  it('eligible decisions carry the index and MAC to answer with', () => {
    const e = eligibleOnly(eligibleInterfaces(NODE, ['br0']));
    assert.deepEqual(e, [{ name: 'br0', index: 4, eligible: true, mac: '02:68:6c:00:02:04', reason: 'named' }]);
  });

  it('globs: `*` matches any run, elsewhere names match exactly', () => {
    const table: [string, string, boolean][] = [
      ['cali*', 'cali1234', true],
      ['cali*', 'cali', true],
      ['cali*', 'xcali1', false],
      ['lo', 'lo', true],
      ['lo', 'lo0', false],
      ['*', 'anything', true],
      ['a*b*c', 'aXXbYYc', true],
      ['a*b*c', 'acb', false],
      ['*-ext', 'br-ext', true],
      ['ab*ba', 'aba', false],
    ];
    for (const [p, n, want] of table) assert.equal(globMatch(p, n), want, `${p} ~ ${n}`);
    fc.assert(fc.property(fc.stringMatching(/^[a-z0-9.-]{0,12}$/), (name) => globMatch(name, name) && globMatch(`${name}*`, `${name}x`)));
  });

  it('every default exclusion is a valid glob that excludes what it names', () => {
    for (const p of DEFAULT_EXCLUDED_INTERFACES) assert.ok(globMatch(p, p.replace('*', 'x')), p);
  });

  it('addressedInterfaces: IPv4 or non-link-local IPv6 counts, link-local alone does not', () => {
    const got = addressedInterfaces({
      eth0: [{ family: 'IPv4', address: '192.0.2.11' }],
      veth1: [{ family: 'IPv6', address: 'fe80::1' }],
      eth1: [
        { family: 'IPv6', address: 'fe80::2' },
        { family: 'IPv6', address: '2001:db8::2' },
      ],
      eth2: [{ family: 6, address: '2001:db8::3' }],
      none: undefined,
    });
    assert.deepEqual([...got].sort(), ['eth0', 'eth1', 'eth2']);
  });
});
