// The network interfaces of this node's network namespace, read from sysfs
// (Documentation/ABI/testing/sysfs-class-net) plus the ethtool driver name from the addon.
// The L2 responder uses these facts to pick the interfaces it answers on; the policy
// (which kinds to skip) is its own.
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { nativeAddon } from './addon.js';

// include/uapi/linux/if.h
export const IFF_UP = 0x1;
export const IFF_LOOPBACK = 0x8;
export const IFF_NOARP = 0x80;
export const IFF_MASTER = 0x400;
export const IFF_SLAVE = 0x800;
// include/uapi/linux/if_arp.h
export const ARPHRD_ETHER = 1;

export interface InterfaceInfo {
  readonly index: number;
  readonly name: string;
  /** Lowercase colon form; undefined for interfaces without a link-layer address. */
  readonly mac: string | undefined;
  /** ARPHRD_* link type; ARP and NDP over Ethernet need ARPHRD_ETHER. */
  readonly linkType: number;
  readonly mtu: number;
  readonly flags: number;
  readonly up: boolean;
  readonly loopback: boolean;
  readonly noArp: boolean;
  /** The interface is a bridge (has /bridge). */
  readonly bridge: boolean;
  /** The interface is a port of a bridge (has /brport); the bridge answers, not its ports. */
  readonly bridgePort: boolean;
  /** The interface is a bonding master. */
  readonly bond: boolean;
  /** The interface is enslaved to a bond (IFF_SLAVE or /bonding_slave). */
  readonly bondMember: boolean;
  /** The bridge, bond or VRF this interface belongs to, by name. */
  readonly master: string | undefined;
  /** ethtool driver name (`veth`, `bridge`, `bonding`, `virtio_net`, …), null when unknown. */
  readonly driver: string | null;
  readonly veth: boolean;
}

export interface ListInterfacesOptions {
  /** Default /sys/class/net; tests point it at a fake tree. */
  readonly sysClassNet?: string;
  /** Default: the addon's ETHTOOL_GDRVINFO lookup (null when the addon is unavailable). */
  readonly driverName?: (name: string) => string | null;
}

/** Every interface of the current network namespace, by index. */
export async function listInterfaces(options: ListInterfacesOptions = {}): Promise<InterfaceInfo[]> {
  const root = options.sysClassNet ?? '/sys/class/net';
  const driverName = options.driverName ?? defaultDriverName;
  const names = await readdir(root);
  const found = await Promise.all(names.map((name) => readInterface(root, name, driverName)));
  return found.filter((i): i is InterfaceInfo => i !== undefined).sort((a, b) => a.index - b.index);
}

/** One interface by name, or undefined when it does not exist. */
export async function interfaceByName(name: string, options: ListInterfacesOptions = {}): Promise<InterfaceInfo | undefined> {
  const root = options.sysClassNet ?? '/sys/class/net';
  return readInterface(root, name, options.driverName ?? defaultDriverName);
}

async function readInterface(
  root: string,
  name: string,
  driverName: (name: string) => string | null,
): Promise<InterfaceInfo | undefined> {
  const dir = join(root, name);
  const index = Number(await attr(dir, 'ifindex'));
  // Entries that vanish meanwhile, or files that are not interfaces (bonding_masters).
  if (!Number.isInteger(index) || index <= 0) return undefined;
  const flags = Number.parseInt((await attr(dir, 'flags')) ?? '0', 16) || 0;
  const addrLen = Number(await attr(dir, 'addr_len'));
  const address = (await attr(dir, 'address'))?.toLowerCase();
  const [bridge, bridgePort, bond, bondingSlave] = await Promise.all(
    ['bridge', 'brport', 'bonding', 'bonding_slave'].map((sub) => exists(join(dir, sub))),
  );
  let master: string | undefined;
  try {
    master = basename(await readlink(join(dir, 'master')));
  } catch {
    master = undefined;
  }
  let driver: string | null;
  try {
    driver = driverName(name);
  } catch {
    driver = null;
  }
  return {
    index,
    name,
    mac: addrLen === 6 && address && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(address) ? address : undefined,
    linkType: Number(await attr(dir, 'type')),
    mtu: Number(await attr(dir, 'mtu')),
    flags,
    up: (flags & IFF_UP) !== 0,
    loopback: (flags & IFF_LOOPBACK) !== 0,
    noArp: (flags & IFF_NOARP) !== 0,
    bridge: bridge === true,
    bridgePort: bridgePort === true,
    bond: bond === true || ((flags & IFF_MASTER) !== 0 && driver === 'bonding'),
    bondMember: bondingSlave === true || (flags & IFF_SLAVE) !== 0,
    master,
    driver,
    veth: driver === 'veth',
  };
}

async function attr(dir: string, file: string): Promise<string | undefined> {
  try {
    return (await readFile(join(dir, file), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function defaultDriverName(name: string): string | null {
  try {
    return nativeAddon().driverName(name);
  } catch {
    return null;
  }
}
