import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interfaceByName, listInterfaces } from '../../../../speaker/native/interfaces.js';

/** A fake /sys/class/net: one directory per interface with the attribute files read. */
async function fakeSys(root: string, ifaces: Record<string, { attrs: Record<string, string>; dirs?: string[]; master?: string }>) {
  for (const [name, { attrs, dirs, master }] of Object.entries(ifaces)) {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    for (const [file, value] of Object.entries(attrs)) await writeFile(join(dir, file), `${value}\n`);
    for (const d of dirs ?? []) await mkdir(join(dir, d));
    if (master) await symlink(join('..', master), join(dir, 'master'));
  }
}

const ether = (ifindex: number, mac: string, flags = '0x1003') => ({ ifindex: String(ifindex), address: mac, addr_len: '6', flags, type: '1', mtu: '1500' });

describe('native/interfaces', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'hlt-native-sys-'));
    await fakeSys(root, {
      lo: { attrs: { ifindex: '1', address: '00:00:00:00:00:00', addr_len: '6', flags: '0x9', type: '772', mtu: '65536' } },
      eth0: { attrs: ether(2, '02:00:5E:00:53:01') },
      br0: { attrs: ether(3, '02:00:5e:00:53:02'), dirs: ['bridge'] },
      veth1: { attrs: ether(4, '02:00:5e:00:53:03'), dirs: ['brport'], master: 'br0' },
      bond0: { attrs: ether(5, '02:00:5e:00:53:04', '0x1443'), dirs: ['bonding'] },
      eth1: { attrs: ether(6, '02:00:5e:00:53:04', '0x1803'), dirs: ['bonding_slave'], master: 'bond0' },
      wg0: { attrs: { ifindex: '7', address: '', addr_len: '0', flags: '0x10d1', type: '65534', mtu: '1420' } },
      down0: { attrs: ether(8, '02:00:5e:00:53:05', '0x1002') },
    });
    await writeFile(join(root, 'bonding_masters'), 'bond0\n');
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const drivers: Record<string, string> = { eth0: 'virtio_net', br0: 'bridge', veth1: 'veth', bond0: 'bonding', eth1: 'virtio_net' };
  const list = () => listInterfaces({ sysClassNet: root, driverName: (n) => drivers[n] ?? null });

  it('lists interfaces by index with their addresses and flags', async () => {
    const all = await list();
    assert.deepEqual(all.map((i) => i.name), ['lo', 'eth0', 'br0', 'veth1', 'bond0', 'eth1', 'wg0', 'down0']);
    const [lo, eth0] = all;
    assert.deepEqual(
      { mac: lo!.mac, loopback: lo!.loopback, up: lo!.up, linkType: lo!.linkType },
      { mac: '00:00:00:00:00:00', loopback: true, up: true, linkType: 772 },
    );
    assert.deepEqual(
      { index: eth0!.index, mac: eth0!.mac, up: eth0!.up, noArp: eth0!.noArp, mtu: eth0!.mtu, driver: eth0!.driver, veth: eth0!.veth },
      { index: 2, mac: '02:00:5e:00:53:01', up: true, noArp: false, mtu: 1500, driver: 'virtio_net', veth: false },
    );
  });

  it('tells bridges, bridge ports, bonds, bond members, veths and NOARP links apart', async () => {
    const by = new Map((await list()).map((i) => [i.name, i]));
    assert.equal(by.get('br0')!.bridge, true);
    assert.deepEqual([by.get('veth1')!.bridgePort, by.get('veth1')!.master, by.get('veth1')!.veth], [true, 'br0', true]);
    assert.equal(by.get('bond0')!.bond, true);
    assert.deepEqual([by.get('eth1')!.bondMember, by.get('eth1')!.master], [true, 'bond0']);
    assert.deepEqual([by.get('wg0')!.noArp, by.get('wg0')!.mac], [true, undefined]);
    assert.equal(by.get('down0')!.up, false);
    assert.equal(by.get('eth0')!.bridgePort || by.get('eth0')!.bondMember, false);
  });

  it('finds one interface by name, and nothing for a missing one', async () => {
    assert.equal((await interfaceByName('eth1', { sysClassNet: root, driverName: () => null }))?.index, 6);
    assert.equal(await interfaceByName('nope0', { sysClassNet: root }), undefined);
  });

  it('reads this machine: the loopback interface is there', async function () {
    if (!existsSync('/sys/class/net/lo')) this.skip();
    const lo = (await listInterfaces()).find((i) => i.name === 'lo');
    assert.ok(lo);
    assert.equal(lo.loopback, true);
  });
});
