// The config model: herald's raw configuration objects in, one validated model and the
// list of everything wrong with them out, in one pure pass (as MetalLB's
// internal/config.For). Unlike MetalLB, which refuses the whole config when one object is
// wrong, an invalid object is only left out (with its errors) and the rest keeps working:
// herald has no admission webhook to stop bad objects at the door (DESIGN.md, API).
//
// Each object is checked again against every per-object rule, because objects may come
// from a cluster whose CRD schema (and so its validation) differs from ours.
import type { BFDProfile, BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement } from '../api/types.js';
import { matchesAnySelector } from '../api/selector.js';
import { rangeContains, type IP } from '../ip/ip.js';
import type { BGPAdvertisementModel, ConfigError, ConfigModel, ConfigResult, L2AdvertisementModel, PeerModel, Pool } from './types.js';
import { buildPools } from './pools.js';
import { buildBFDProfiles, buildPeers, type SecretLike } from './peers.js';
import { buildCommunityAliases } from './community-aliases.js';
import { buildBGPAdvertisements, buildL2Advertisements } from './advertisements.js';

export type { SecretLike } from './peers.js';
export type { ConfigError, ConfigModel, ConfigResult } from './types.js';

export interface ConfigInput {
  pools: IPAddressPool[];
  l2Advertisements: L2Advertisement[];
  bgpAdvertisements: BGPAdvertisement[];
  peers: BGPPeer[];
  communities: Community[];
  bfdProfiles: BFDProfile[];
  secrets: SecretLike[];
  /** The install namespace; objects of other namespaces are not herald's config and are ignored. */
  namespace: string;
}

const KIND_ORDER: readonly string[] = ['IPAddressPool', 'L2Advertisement', 'BGPAdvertisement', 'BGPPeer', 'Community', 'BFDProfile'];

/**
 * Builds the model. Deterministic: the same input in any order gives the same output.
 * Every list in the model is sorted by name; `errors` by kind, then object name, in the
 * order the rules found them within one object.
 *
 * Pools: invalid pools are left out and listed in `invalidPools`; a pool whose addresses
 * overlap a pool created earlier keeps the rest (`ranges`) and carries a Conflict error.
 * Advertisements: `pools` are resolved names (may include names in `invalidPools`), and
 * an advertisement may lose a pool to a cross-object rule while keeping the others.
 * Peers: left out when invalid or when their Secret or BFDProfile cannot be resolved.
 */
export function buildConfig(input: ConfigInput): ConfigResult {
  const errors: ConfigError[] = [];
  const ns = input.namespace;
  const pools = buildPools(input.pools ?? [], ns, errors);
  const bfd = buildBFDProfiles(input.bfdProfiles ?? [], ns, errors);
  const bfdByName = new Map(bfd.profiles.map((p) => [p.name, p]));
  const peers = buildPeers(
    input.peers ?? [],
    {
      namespace: ns,
      secrets: input.secrets ?? [],
      bfdProfiles: bfdByName,
      invalidBFDProfiles: new Set(bfd.names.filter((n) => !bfdByName.has(n))),
    },
    errors,
  );
  const communities = buildCommunityAliases(input.communities ?? [], ns, errors);
  const adCtx = { namespace: ns, pools: pools.infos, peerNames: new Set(peers.names), communities };
  const l2Advertisements = buildL2Advertisements(input.l2Advertisements ?? [], adCtx, errors);
  const bgpAdvertisements = buildBGPAdvertisements(input.bgpAdvertisements ?? [], adCtx, errors);

  const model: ConfigModel = {
    pools: pools.pools,
    l2Advertisements,
    bgpAdvertisements,
    peers: peers.peers,
    bfdProfiles: bfd.profiles,
    invalidPools: pools.invalidPools,
  };
  const order = (e: ConfigError): number => KIND_ORDER.indexOf(e.kind);
  const sorted = errors
    .map((e, i) => ({ e, i }))
    .sort((a, b) => order(a.e) - order(b.e) || (a.e.name < b.e.name ? -1 : a.e.name > b.e.name ? 1 : 0) || a.i - b.i)
    .map(({ e }) => e);
  return { model, errors: sorted };
}

// ---------------------------------------------------------------- lookups for consumers

export function poolByName(model: ConfigModel, name: string): Pool | undefined {
  return model.pools.find((p) => p.name === name);
}

/** The pool whose ranges hold `ip` (pools never overlap in the model), if any. */
export function poolContaining(model: ConfigModel, ip: IP): Pool | undefined {
  return model.pools.find((p) => p.ranges.some((r) => rangeContains(r, ip)));
}

export function l2AdvertisementsForPool(model: ConfigModel, pool: string): L2AdvertisementModel[] {
  return model.l2Advertisements.filter((a) => a.pools.includes(pool));
}

export function bgpAdvertisementsForPool(model: ConfigModel, pool: string): BGPAdvertisementModel[] {
  return model.bgpAdvertisements.filter((a) => a.pools.includes(pool));
}

/** The peers a node with these labels holds sessions to. */
export function peersForNode(model: ConfigModel, nodeLabels: Readonly<Record<string, string>>): PeerModel[] {
  return model.peers.filter((p) => matchesAnySelector(p.nodeSelectors, nodeLabels));
}

/** Whether `advertisement` sends its routes to `peer` (an empty list means every peer). */
export function advertisesToPeer(advertisement: BGPAdvertisementModel, peer: string): boolean {
  return advertisement.peers.length === 0 || advertisement.peers.includes(peer);
}

/** The errors about one object. */
export function errorsFor(errors: readonly ConfigError[], kind: string, name: string): ConfigError[] {
  return errors.filter((e) => e.kind === kind && e.name === name);
}
