// Small factories for realistic herald objects (the lab's addresses and ASNs), and
// helpers to read a ConfigResult in assertions.
import { strict as assert } from 'node:assert';
import {
  API_VERSION,
  type BFDProfile,
  type BFDProfileSpec,
  type BGPAdvertisement,
  type BGPAdvertisementSpec,
  type BGPPeer,
  type BGPPeerSpec,
  type Community,
  type IPAddressPool,
  type IPAddressPoolSpec,
  type L2Advertisement,
  type L2AdvertisementSpec,
  type ObjectMeta,
} from '../../../../shared/api/types.js';
import { buildConfig, type ConfigInput, type SecretLike } from '../../../../shared/config/model.js';
import type { ConfigError, ConfigResult } from '../../../../shared/config/types.js';
import { formatRange } from '../../../../shared/ip/ip.js';

export const NS = 'herald-system';

/** Objects may come from a cluster whose schema differs, so specs are loosely typed here. */
type Loose<T> = { [K in keyof T]?: unknown } & Record<string, unknown>;

let clock = Date.parse('2024-05-01T10:00:00Z');
/** A creation timestamp one second after the previous one. */
export function later(): string {
  clock += 1000;
  return new Date(clock).toISOString();
}

function meta(name: string, extra: Partial<ObjectMeta> = {}): ObjectMeta {
  return { name, namespace: NS, creationTimestamp: later(), ...extra };
}

export function pool(name: string, spec: Loose<IPAddressPoolSpec>, m: Partial<ObjectMeta> = {}): IPAddressPool {
  return { apiVersion: API_VERSION, kind: 'IPAddressPool', metadata: meta(name, m), spec: spec as unknown as IPAddressPoolSpec };
}

export function l2(name: string, spec: Loose<L2AdvertisementSpec> = {}, m: Partial<ObjectMeta> = {}): L2Advertisement {
  return { apiVersion: API_VERSION, kind: 'L2Advertisement', metadata: meta(name, m), spec: spec as unknown as L2AdvertisementSpec };
}

export function bgpAdv(name: string, spec: Loose<BGPAdvertisementSpec> = {}, m: Partial<ObjectMeta> = {}): BGPAdvertisement {
  return { apiVersion: API_VERSION, kind: 'BGPAdvertisement', metadata: meta(name, m), spec: spec as unknown as BGPAdvertisementSpec };
}

/** The lab's router: eBGP from ASN 64512 to 64500 at 192.0.2.1, unless overridden. */
export function peer(name: string, spec: Loose<BGPPeerSpec> = {}, m: Partial<ObjectMeta> = {}): BGPPeer {
  const full = { myASN: 64512, peerASN: 64500, peerAddress: '192.0.2.1', ...spec };
  for (const [k, v] of Object.entries(full)) if (v === undefined) delete (full as Record<string, unknown>)[k];
  return { apiVersion: API_VERSION, kind: 'BGPPeer', metadata: meta(name, m), spec: full as unknown as BGPPeerSpec };
}

export function community(name: string, aliases: unknown[], m: Partial<ObjectMeta> = {}): Community {
  return { apiVersion: API_VERSION, kind: 'Community', metadata: meta(name, m), spec: { communities: aliases as Community['spec']['communities'] } };
}

export function bfd(name: string, spec: Loose<BFDProfileSpec> = {}, m: Partial<ObjectMeta> = {}): BFDProfile {
  return { apiVersion: API_VERSION, kind: 'BFDProfile', metadata: meta(name, m), spec: spec as unknown as BFDProfileSpec };
}

/** A Secret with `data` base64-encoded from the plain values given. */
export function secret(name: string, plain: Record<string, string>, type: string | null = 'kubernetes.io/basic-auth', namespace = NS): SecretLike {
  const data = Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]));
  return { metadata: { name, namespace }, ...(type ? { type } : {}), data };
}

export function build(parts: Partial<ConfigInput>): ConfigResult {
  return buildConfig({
    pools: [],
    l2Advertisements: [],
    bgpAdvertisements: [],
    peers: [],
    communities: [],
    bfdProfiles: [],
    secrets: [],
    namespace: NS,
    ...parts,
  });
}

/** `reason field` of each error, for compact assertions. */
export function brief(errors: readonly ConfigError[]): string[] {
  return errors.map((e) => `${e.kind}/${e.name} ${e.reason} ${e.field}`);
}

/** Asserts exactly these errors (as `reason field`) about one object, each message matching. */
export function expectErrors(result: ConfigResult, kind: string, name: string, want: [string, string, RegExp?][]): void {
  const mine = result.errors.filter((e) => e.kind === kind && e.name === name);
  assert.deepEqual(
    mine.map((e) => `${e.reason} ${e.field}`),
    want.map(([reason, field]) => `${reason} ${field}`),
    `errors of ${kind}/${name}: ${JSON.stringify(mine, null, 1)}`,
  );
  want.forEach(([, , re], i) => {
    if (re) assert.match(mine[i]!.message, re);
  });
}

export function expectNoErrors(result: ConfigResult): void {
  assert.deepEqual(result.errors, [], JSON.stringify(result.errors, null, 1));
}

/** A pool's ranges as text. */
export function rangesOf(result: ConfigResult, name: string): string[] {
  const p = result.model.pools.find((x) => x.name === name);
  assert.ok(p, `pool ${name} is in the model`);
  return p.ranges.map(formatRange);
}
