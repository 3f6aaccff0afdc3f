// fast-check generators of well-formed BGP messages, for the round-trip properties.
import fc from 'fast-check';
import { formatIP } from '../../../../shared/ip/ip.js';
import type { ASPathSegment } from '../../../../speaker/bgp/as-path.js';
import type { PathAttribute } from '../../../../speaker/bgp/attributes.js';
import type { Capability } from '../../../../speaker/bgp/capabilities.js';
import type { KeepaliveMessage } from '../../../../speaker/bgp/messages.js';
import { notification, shutdownNotification, type NotificationMessage } from '../../../../speaker/bgp/notification.js';
import type { OpenMessage } from '../../../../speaker/bgp/open.js';
import type { Prefix } from '../../../../speaker/bgp/prefix.js';
import type { RouteRefreshMessage } from '../../../../speaker/bgp/route-refresh.js';
import type { UpdateMessage } from '../../../../speaker/bgp/update.js';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

export const ipv4 = u32.map((v) => formatIP({ family: 4, value: BigInt(v) }));
/** A NEXT_HOP the decoder accepts: not 0.0.0.0, not multicast or above. */
export const hostIPv4 = fc.integer({ min: 1, max: 0xdfffffff }).map((v) => formatIP({ family: 4, value: BigInt(v) }));
export const ipv6 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((v) => formatIP({ family: 6, value: v }));

function masked(family: 4 | 6, value: bigint, length: number): Prefix {
  const bits = family === 4 ? 32 : 128;
  const host = BigInt(bits - length);
  return { family, prefix: formatIP({ family, value: (value >> host) << host }), length };
}

export const prefix4 = fc.tuple(u32, fc.integer({ min: 0, max: 32 })).map(([v, l]) => masked(4, BigInt(v), l));
export const prefix6 = fc.tuple(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 128 })).map(([v, l]) => masked(6, v, l));

const segment = (asn: fc.Arbitrary<number>): fc.Arbitrary<ASPathSegment> =>
  fc.record({
    type: fc.constantFrom('set' as const, 'sequence' as const, 'confedSequence' as const, 'confedSet' as const),
    asns: fc.array(asn, { minLength: 1, maxLength: 8 }),
  });

const knownAttributeCodes = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 17, 18, 32]);

const unknownAttribute: fc.Arbitrary<PathAttribute> = fc.record({
  type: fc.constant('unknown' as const),
  typeCode: u8.filter((c) => !knownAttributeCodes.has(c)),
  // Optional bit set (else it is an unrecognized well-known attribute), Extended Length clear.
  flags: u8.map((f) => (f | 0x80) & ~0x10),
  value: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
});

/** A sound UPDATE: mandatory attributes present whenever something is announced. */
export function updateMessage(fourOctetAS: boolean): fc.Arbitrary<UpdateMessage> {
  const asn = fourOctetAS ? u32 : u16;
  const mpReach = fc.oneof(
    fc.record({ afi: fc.constant(2), safi: fc.constant(1), nextHop: ipv6, nlri: fc.array(prefix6, { maxLength: 6 }) }),
    fc.record({ afi: fc.constant(2), safi: fc.constant(1), nextHop: ipv6, linkLocalNextHop: ipv6, nlri: fc.array(prefix6, { maxLength: 6 }) }),
    fc.record({ afi: fc.constant(1), safi: fc.constant(1), nextHop: fc.oneof(ipv4, ipv6), nlri: fc.array(prefix4, { maxLength: 6 }) }),
  );
  const optional = fc.record(
    {
      med: u32.map((med): PathAttribute => ({ type: 'med', med })),
      localPref: u32.map((localPref): PathAttribute => ({ type: 'localPref', localPref })),
      atomicAggregate: fc.constant<PathAttribute>({ type: 'atomicAggregate' }),
      aggregator: fc.record({ asn, address: ipv4 }).map((a): PathAttribute => ({ type: 'aggregator', ...a })),
      communities: fc.array(u32, { minLength: 1, maxLength: 6 }).map((communities): PathAttribute => ({ type: 'communities', communities })),
      originatorId: ipv4.map((originatorId): PathAttribute => ({ type: 'originatorId', originatorId })),
      clusterList: fc.array(ipv4, { minLength: 1, maxLength: 4 }).map((clusterIds): PathAttribute => ({ type: 'clusterList', clusterIds })),
      mpReach: mpReach.map((m): PathAttribute => ({ type: 'mpReach', ...m })),
      mpUnreach: fc
        .oneof(
          fc.record({ afi: fc.constant(2), safi: fc.constant(1), withdrawn: fc.array(prefix6, { maxLength: 6 }) }),
          fc.record({ afi: fc.constant(1), safi: fc.constant(1), withdrawn: fc.array(prefix4, { maxLength: 6 }) }),
        )
        .map((m): PathAttribute => ({ type: 'mpUnreach', ...m })),
      largeCommunities: fc
        .array(fc.tuple(u32, u32, u32), { minLength: 1, maxLength: 4 })
        .map((communities): PathAttribute => ({ type: 'largeCommunities', communities })),
      as4Path: fc.array(segment(u32).filter((s) => s.type === 'set' || s.type === 'sequence'), { maxLength: 3 }).map((segments): PathAttribute => ({ type: 'as4Path', segments })),
      as4Aggregator: fc.record({ asn: u32, address: ipv4 }).map((a): PathAttribute => ({ type: 'as4Aggregator', ...a })),
      unknown: unknownAttribute,
    },
    { requiredKeys: [] },
  );
  return fc
    .record({
      withdrawn: fc.array(prefix4, { maxLength: 6 }),
      nlri: fc.array(prefix4, { maxLength: 6 }),
      origin: fc.constantFrom('igp' as const, 'egp' as const, 'incomplete' as const),
      asPath: fc.array(segment(asn), { maxLength: 3 }),
      nextHop: hostIPv4,
      optional,
      mandatory: fc.boolean(),
    })
    .chain((r) => {
      const attrs: PathAttribute[] = [];
      const o = r.optional;
      const announces = r.nlri.length > 0 || (o.mpReach?.type === 'mpReach' && o.mpReach.nlri.length > 0);
      if (announces || r.mandatory) {
        attrs.push({ type: 'origin', origin: r.origin }, { type: 'asPath', segments: r.asPath });
      }
      if (r.nlri.length > 0 || r.mandatory) attrs.push({ type: 'nextHop', nextHop: r.nextHop });
      for (const [k, v] of Object.entries(o)) {
        // AS4_PATH and AS4_AGGREGATOR only mean something on 2-octet sessions (RFC 6793 §3).
        if (fourOctetAS && (k === 'as4Path' || k === 'as4Aggregator')) continue;
        if (v) attrs.push(v);
      }
      return fc
        .shuffledSubarray(attrs, { minLength: attrs.length, maxLength: attrs.length })
        .map((attributes): UpdateMessage => ({ type: 'update', withdrawn: r.withdrawn, attributes, nlri: r.nlri }));
    });
}

const knownCapabilityCodes = new Set([1, 2, 6, 64, 65, 70]);

export const capability: fc.Arbitrary<Capability> = fc.oneof(
  fc.record({ type: fc.constant('multiprotocol' as const), afi: u16, safi: u8 }),
  fc.constant<Capability>({ type: 'routeRefresh' }),
  fc.constant<Capability>({ type: 'extendedMessage' }),
  fc.constant<Capability>({ type: 'enhancedRouteRefresh' }),
  fc.record({ type: fc.constant('fourOctetAS' as const), asn: u32 }),
  fc.record({
    type: fc.constant('gracefulRestart' as const),
    restartState: fc.boolean(),
    notification: fc.boolean(),
    restartTime: fc.integer({ min: 0, max: 4095 }),
    families: fc.array(fc.record({ afi: u16, safi: u8, forwardingState: fc.boolean() }), { maxLength: 4 }),
  }),
  fc.record({
    type: fc.constant('unknown' as const),
    code: u8.filter((c) => !knownCapabilityCodes.has(c)),
    value: fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a)),
  }),
);

export const openMessage: fc.Arbitrary<OpenMessage> = fc.record({
  type: fc.constant('open' as const),
  version: fc.constant(4),
  myAS: u16,
  holdTime: u16,
  bgpIdentifier: ipv4,
  capabilities: fc.array(capability, { maxLength: 40 }),
});

export const notificationMessage: fc.Arbitrary<NotificationMessage> = fc.oneof(
  fc
    .record({ code: u8.filter((c) => c !== 6), subcode: u8, data: fc.uint8Array({ maxLength: 40 }) })
    .map((n) => notification(n.code, n.subcode, Buffer.from(n.data))),
  fc.record({ subcode: fc.constantFrom(2, 4), text: fc.string({ unit: 'grapheme', maxLength: 30 }) }).map((n) => shutdownNotification(n.subcode, n.text)),
);

export const routeRefreshMessage: fc.Arbitrary<RouteRefreshMessage> = fc.record({
  type: fc.constant('routeRefresh' as const),
  afi: u16,
  safi: u8,
  subtype: u8,
});

export const keepaliveMessage: fc.Arbitrary<KeepaliveMessage> = fc.constant({ type: 'keepalive' as const });
