// herald's CRDs (manifests/crds/*.yaml) through the same validation the embedded API
// server runs: every per-object rule accepts what it should and refuses what it should,
// with a message naming the field; defaults, names and printer columns as designed.
import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { loadCRDs, type CompiledCRD } from '../../apiserver/crd-validation.js';
import { parseAddressSpec } from '../../../shared/ip/ip.js';
import { PLURALS, type HeraldKind } from '../../../shared/api/types.js';

const CRD_DIR = fileURLToPath(new URL('../../../manifests/crds/', import.meta.url));
const crds = loadCRDs(CRD_DIR);
const byKind = (kind: HeraldKind): CompiledCRD => {
  const c = crds.find((x) => x.kind === kind);
  if (!c) throw new Error(`no CRD for ${kind}`);
  return c;
};

function object(kind: HeraldKind, spec: unknown, status?: unknown): Record<string, unknown> {
  const o: Record<string, unknown> = { apiVersion: 'herald.dev/v1beta1', kind, metadata: { name: 'x', namespace: 'herald-system' } };
  if (spec !== undefined) o.spec = spec;
  if (status !== undefined) o.status = status;
  return o;
}

/** Defaults applied, then validated, as the server does on create. */
function check(kind: HeraldKind, spec: unknown, status?: unknown): string[] {
  const c = byKind(kind);
  const o = object(kind, structuredClone(spec), structuredClone(status));
  c.applyDefaults(o);
  return c.validate(o).map((e) => `${e.field}: ${e.message}`);
}

type Case = [name: string, spec: unknown, want: string[]];

/** Spec cases, or status cases (`status` holds the spec the status objects carry). */
function table(kind: HeraldKind, cases: Case[], status?: { spec: unknown }): void {
  describe(`${kind}${status ? ' status' : ''}`, () => {
    for (const [name, value, want] of cases) {
      it(`${want.length ? 'refuses' : 'accepts'} ${name}`, () => {
        const got = status ? check(kind, status.spec, value) : check(kind, value);
        assert.deepEqual(got, want);
      });
    }
  });
}

const NOT_CHECKED =
  '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';

describe('herald CRDs', () => {
  it('define all nine kinds, namespaced, herald.dev/v1beta1, in the herald category', () => {
    assert.deepEqual(crds.map((c) => c.kind).sort(), Object.keys(PLURALS).sort());
    for (const c of crds) {
      assert.equal(c.group, 'herald.dev');
      assert.equal(c.version, 'v1beta1');
      assert.equal(c.scope, 'Namespaced');
      assert.equal(c.plural, PLURALS[c.kind as HeraldKind]);
      assert.equal(c.listKind, `${c.kind}List`);
      assert.equal(c.singular, c.kind.toLowerCase());
      assert.deepEqual(c.categories, ['herald']);
      assert.equal(c.shortNames.length, 1);
    }
    const shortNames = crds.flatMap((c) => c.shortNames);
    assert.equal(new Set(shortNames).size, shortNames.length);
  });

  it('give every kind a status, each through a status subresource', () => {
    const withStatus = crds.filter((c) => isObj(isObj(c.schema.properties) && c.schema.properties.status)).map((c) => c.kind);
    assert.deepEqual(crds.filter((c) => c.statusSubresource).map((c) => c.kind).sort(), withStatus.sort());
    assert.equal(crds.length, 9);
    assert.equal(withStatus.length, crds.length, 'the configuration kinds carry conditions, the status kinds their state');
  });

  it('point every printer column at a field the schema has', () => {
    for (const c of crds) {
      for (const col of c.printerColumns as { name: string; jsonPath: string; type: string }[]) {
        const path = col.jsonPath.replace(/\[\?\(@\.type=="[A-Za-z]+"\)\]/, '[]').replace(/\[\*\]/, '[]');
        assert.ok(schemaHas(c.schema, path), `${c.kind} column ${col.name}: ${col.jsonPath}`);
        assert.ok(['string', 'integer', 'number', 'boolean', 'date'].includes(col.type));
      }
    }
  });

  it('accept the objects MetalLB users write, with no spec at all where MetalLB allows it', () => {
    for (const kind of ['L2Advertisement', 'BGPAdvertisement', 'Community', 'BFDProfile'] as const) {
      assert.deepEqual(check(kind, undefined), [], kind);
    }
    assert.deepEqual(check('IPAddressPool', undefined), ['spec: Required value', NOT_CHECKED]);
  });
});

describe('herald CRD defaults', () => {
  const defaulted = (kind: HeraldKind, spec: unknown): unknown => {
    const o = object(kind, spec);
    byKind(kind).applyDefaults(o);
    return o.spec;
  };
  it('IPAddressPool: autoAssign true, avoidBuggyIPs false', () => {
    assert.deepEqual(defaulted('IPAddressPool', { addresses: ['192.0.2.0/24'] }), {
      addresses: ['192.0.2.0/24'],
      autoAssign: true,
      avoidBuggyIPs: false,
    });
  });
  it('BGPAdvertisement: aggregation lengths 32 and 128', () => {
    assert.deepEqual(defaulted('BGPAdvertisement', undefined), { aggregationLength: 32, aggregationLengthV6: 128 });
  });
  it('BGPPeer: port 179, hold 90s, connect 120s, and no keepalive (hold/3 is computed later)', () => {
    assert.deepEqual(defaulted('BGPPeer', { myASN: 64512, peerASN: 64500, peerAddress: '192.0.2.1' }), {
      myASN: 64512,
      peerASN: 64500,
      peerAddress: '192.0.2.1',
      peerPort: 179,
      holdTime: '90s',
      connectTime: '120s',
    });
  });
  it('BFDProfile: FRR bfdd defaults', () => {
    assert.deepEqual(defaulted('BFDProfile', {}), {
      receiveInterval: 300,
      transmitInterval: 300,
      detectMultiplier: 3,
      echoInterval: 50,
      minimumTtl: 254,
    });
  });
  it('L2Advertisement and Community: an empty spec', () => {
    assert.deepEqual(defaulted('L2Advertisement', undefined), {});
    assert.deepEqual(defaulted('Community', undefined), {});
  });
});

const pool = (...addresses: unknown[]): unknown => ({ addresses });
const A0 = 'spec.addresses[0]: Invalid value: "string": ';

table('IPAddressPool', [
  ['IPv4 and IPv6 CIDRs, ranges and single addresses', pool('192.0.2.0/24', '2001:db8::/64', '198.51.100.10-198.51.100.20', '203.0.113.7', '2001:db8:1::1-2001:db8:1::ff'), []],
  ['a range with spaces around the dash (as MetalLB)', pool('192.0.2.10 - 192.0.2.20'), []],
  ['a one-address range', pool('192.0.2.10-192.0.2.10'), []],
  ['ranges ordered across octets and groups', pool('192.0.2.9-192.0.2.10', '192.0.2.255-192.0.3.0', '2001:db8::ffff-2001:db8::1:0', '::-::1'), []],
  ['upper-case and fully written IPv6', pool('2001:DB8::A-2001:0db8:0:0:0:0:0:00b', '2001:0DB8::/32'), []],
  ['/0, /32 and /128', pool('0.0.0.0/0', '192.0.2.1/32', '2001:db8::1/128'), []],
  ['a word', pool('pool'), [`${A0}"pool" is not a CIDR (192.0.2.0/24), an address range (192.0.2.10-192.0.2.20) or a single IP address`]],
  ['an address with leading zeros', pool('192.0.2.010'), [`${A0}"192.0.2.010" is not a CIDR (192.0.2.0/24), an address range (192.0.2.10-192.0.2.20) or a single IP address`]],
  ['a prefix length out of range', pool('192.0.2.0/33'), [`${A0}"192.0.2.0/33" is not a CIDR (192.0.2.0/24), an address range (192.0.2.10-192.0.2.20) or a single IP address`]],
  ['a three-part range', pool('192.0.2.1-192.0.2.2-192.0.2.3'), [`${A0}"192.0.2.1-192.0.2.2-192.0.2.3" is not a CIDR (192.0.2.0/24), an address range (192.0.2.10-192.0.2.20) or a single IP address`]],
  ['an IPv4-mapped IPv6 address', pool('::ffff:192.0.2.1'), [`${A0}"::ffff:192.0.2.1" is not a CIDR (192.0.2.0/24), an address range (192.0.2.10-192.0.2.20) or a single IP address`]],
  ['a CIDR with host bits', pool('192.0.2.1/24'), [`${A0}"192.0.2.1/24" has host bits set: write the network address, 192.0.2.0/24`]],
  ['an IPv6 CIDR with host bits', pool('2001:db8::1/64'), [`${A0}"2001:db8::1/64" has host bits set: write the network address, 2001:db8::/64`]],
  ['a range of two families', pool('192.0.2.1-2001:db8::1'), [`${A0}"192.0.2.1-2001:db8::1" mixes IPv4 and IPv6: both ends of a range must be of one family`]],
  ['a reversed IPv4 range', pool('192.0.2.20-192.0.2.3'), [`${A0}"192.0.2.20-192.0.2.3": the first address of a range must not be greater than the last`]],
  ['a reversed IPv6 range', pool('2001:db8::1:0-2001:db8::ffff'), [`${A0}"2001:db8::1:0-2001:db8::ffff": the first address of a range must not be greater than the last`]],
  ['a duplicate entry', pool('192.0.2.1', '192.0.2.1'), ['spec.addresses[1]: Duplicate value: "192.0.2.1"']],
  ['no addresses field', {}, ['spec.addresses: Required value', NOT_CHECKED]],
  ['addresses that are not a list', { addresses: '192.0.2.0/24' },
    ['spec.addresses: Invalid value: "string": spec.addresses in body must be of type array: "string"', NOT_CHECKED]],
  ['too many addresses', pool(...Array.from({ length: 129 }, (_, i) => `198.51.100.${i}`)), ['spec.addresses: Too many: 129: must have at most 128 items', NOT_CHECKED]],
  ['serviceAllocation with selectors', { addresses: ['192.0.2.0/24'], serviceAllocation: { priority: 10, namespaces: ['a'], namespaceSelectors: [{ matchLabels: { team: 'x' } }], serviceSelectors: [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }] } }, []],
  ['a selector operator that does not exist', { addresses: ['192.0.2.0/24'], serviceAllocation: { serviceSelectors: [{ matchExpressions: [{ key: 'k', operator: 'Equals' }] }] } },
    ['spec.serviceAllocation.serviceSelectors[0].matchExpressions[0].operator: Unsupported value: "Equals": supported values: "In", "NotIn", "Exists", "DoesNotExist"', NOT_CHECKED]],
  ['In without values', { addresses: ['192.0.2.0/24'], serviceAllocation: { serviceSelectors: [{ matchExpressions: [{ key: 'k', operator: 'In' }] }] } },
    ['spec.serviceAllocation.serviceSelectors[0].matchExpressions[0].values: Invalid value: "object": values must not be empty when operator is In']],
  ['Exists with values', { addresses: ['192.0.2.0/24'], serviceAllocation: { namespaceSelectors: [{ matchExpressions: [{ key: 'k', operator: 'Exists', values: ['a'] }] }] } },
    ['spec.serviceAllocation.namespaceSelectors[0].matchExpressions[0].values: Invalid value: "object": values must be empty when operator is Exists']],
]);

table('IPAddressPool', [
  ['counts and a Ready condition', { assignedIPv4: 3, availableIPv4: 250, assignedIPv6: 0, availableIPv6: Number.MAX_SAFE_INTEGER, observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True', reason: 'Allocating', message: '', lastTransitionTime: '2024-05-01T10:00:00Z' }] }, []],
  ['a negative count', { assignedIPv4: -1 }, ['status.assignedIPv4: Invalid value: -1: status.assignedIPv4 in body should be greater than or equal to 0']],
  ['a condition without reason and a bad status', { conditions: [{ type: 'Ready', status: 'Yes', message: 'm', lastTransitionTime: '2024-05-01T10:00:00Z' }] },
    ['status.conditions[0].reason: Required value', 'status.conditions[0].status: Unsupported value: "Yes": supported values: "True", "False", "Unknown"', NOT_CHECKED]],
  ['two conditions of one type', { conditions: [0, 1].map(() => ({ type: 'Ready', status: 'True', reason: 'R', message: '', lastTransitionTime: '2024-05-01T10:00:00Z' })) },
    ['status.conditions[1]: Duplicate value: map[string]interface {}{"type":"Ready"}']],
], { spec: pool('192.0.2.0/24') });

table('L2Advertisement', [
  ['pools, selectors, nodes and interfaces', { ipAddressPools: ['a', 'b'], ipAddressPoolSelectors: [{ matchLabels: { l2: 'yes' } }], nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'node1' } }], interfaces: ['eth0', 'bond0.100'] }, []],
  ['an interface name longer than 15 characters', { interfaces: ['averyveryverylongname'] }, ['spec.interfaces[0]: Too long: may not be more than 15 bytes', NOT_CHECKED]],
  ['an interface name with a slash', { interfaces: ['eth/0'] }, [`spec.interfaces[0]: Invalid value: "string": "eth/0" is not a Linux interface name (1 to 15 characters, no '/' or whitespace)`]],
  ['an empty interface name', { interfaces: [''] }, [`spec.interfaces[0]: Invalid value: "string": "" is not a Linux interface name (1 to 15 characters, no '/' or whitespace)`]],
  ['a pool named twice', { ipAddressPools: ['a', 'a'] }, ['spec.ipAddressPools[1]: Duplicate value: "a"']],
  ['an unknown field (pruned, not refused)', { ipAddressPools: ['a'], bogus: true }, []],
]);

const adv = (communities: string[]): unknown => ({ communities });
const C0 = 'spec.communities[0]: Invalid value: "string": ';
const communityMsg = (c: string): string =>
  `${C0}"${c}" is not a community AS:NN (two numbers up to 65535), a large community large:A:B:C (three numbers up to 4294967295) or the name of a Community alias`;

table('BGPAdvertisement', [
  ['standard, large and alias communities', adv(['65000:100', '0:0', '65535:65535', 'large:4294967295:0:1', 'no-export_2.x']), []],
  ['aggregation lengths at their bounds, localPref', { aggregationLength: 0, aggregationLengthV6: 128, localPref: 4294967295, peers: ['p1'] }, []],
  ['a community part above 65535', adv(['65536:1']), [communityMsg('65536:1')]],
  ['a community with three parts', adv(['1:2:3']), [communityMsg('1:2:3')]],
  ['a large community part above 2^32-1', adv(['large:4294967296:0:0']), [communityMsg('large:4294967296:0:0')]],
  ['a large community with two parts', adv(['large:1:2']), [communityMsg('large:1:2')]],
  ['an alias starting with a digit', adv(['1abc']), [communityMsg('1abc')]],
  ['aggregationLength 33', { aggregationLength: 33 }, ['spec.aggregationLength: Invalid value: 33: spec.aggregationLength in body should be less than or equal to 32']],
  ['aggregationLengthV6 129', { aggregationLengthV6: 129 }, ['spec.aggregationLengthV6: Invalid value: 129: spec.aggregationLengthV6 in body should be less than or equal to 128']],
  ['a negative aggregationLength', { aggregationLength: -1 }, ['spec.aggregationLength: Invalid value: -1: spec.aggregationLength in body should be greater than or equal to 0']],
  ['localPref above 2^32-1', { localPref: 4294967296 }, ['spec.localPref: Invalid value: 4294967296: spec.localPref in body should be less than or equal to 4294967295']],
  ['a negative localPref', { localPref: -1 }, ['spec.localPref: Invalid value: -1: spec.localPref in body should be greater than or equal to 0']],
]);

const peer = (extra: Record<string, unknown> = {}): unknown => ({ myASN: 64512, peerASN: 64500, peerAddress: '192.0.2.1', ...extra });

table('BGPPeer', [
  ['a minimal eBGP peer', peer(), []],
  ['an IPv6 peer with a source address, timers and BFD', peer({ peerAddress: '2001:db8::1', sourceAddress: '2001:db8::11', holdTime: '3m', keepaliveTime: '1m', connectTime: '5s', bfdProfile: 'fast', routerID: '192.0.2.11', ebgpMultiHop: true, enableGracefulRestart: true, vrf: 'red', disableMP: true, nodeSelectors: [{ matchLabels: { rack: 'a' } }] }), []],
  ['holdTime 0s (no keepalives) without keepaliveTime', peer({ holdTime: '0s' }), []],
  ['holdTime 3s, the least allowed', peer({ holdTime: '3s', keepaliveTime: '1s' }), []],
  ['dynamicASN instead of peerASN', { myASN: 64512, dynamicASN: 'external', peerAddress: '192.0.2.1' }, []],
  ['a 4-byte ASN', peer({ myASN: 4200000000, peerASN: 4294967295 }), []],
  ['a password', peer({ password: 'secret' }), []],
  ['a passwordSecret', peer({ passwordSecret: { name: 'bgp-auth' } }), []],
  ['no peerASN and no dynamicASN', { myASN: 64512, peerAddress: '192.0.2.1' }, ['spec: Invalid value: "object": exactly one of peerASN and dynamicASN must be set']],
  ['both peerASN and dynamicASN', peer({ dynamicASN: 'internal' }), ['spec: Invalid value: "object": exactly one of peerASN and dynamicASN must be set']],
  ['an unknown dynamicASN', { myASN: 64512, dynamicASN: 'any', peerAddress: '192.0.2.1' }, ['spec.dynamicASN: Unsupported value: "any": supported values: "internal", "external"', NOT_CHECKED]],
  ['password and passwordSecret', peer({ password: 'x', passwordSecret: { name: 's' } }), ['spec.passwordSecret: Invalid value: "object": password and passwordSecret are mutually exclusive; set at most one']],
  ['a password longer than TCP-MD5 allows', peer({ password: 'x'.repeat(81) }), ['spec.password: Too long: may not be more than 80 bytes', NOT_CHECKED]],
  ['ASN 0', peer({ myASN: 0 }), ['spec.myASN: Invalid value: 0: spec.myASN in body should be greater than or equal to 1']],
  ['an ASN above 2^32-1', peer({ peerASN: 4294967296 }), ['spec.peerASN: Invalid value: 4294967296: spec.peerASN in body should be less than or equal to 4294967295']],
  ['holdTime 2s', peer({ holdTime: '2s' }), ['spec.holdTime: Invalid value: "string": must be 0s or between 3s and 65535s (RFC 4271 §4.2)']],
  ['holdTime above 65535s', peer({ holdTime: '20h' }), ['spec.holdTime: Invalid value: "string": must be 0s or between 3s and 65535s (RFC 4271 §4.2)']],
  ['holdTime that is not a duration', peer({ holdTime: '90' }), ['spec.holdTime: Invalid value: "string": must be a duration such as 90s, 1m30s or 0s']],
  ['keepaliveTime above holdTime', peer({ holdTime: '30s', keepaliveTime: '31s' }), ['spec.keepaliveTime: Invalid value: "object": keepaliveTime (31s) must not be greater than holdTime (30s)']],
  ['keepaliveTime above the default holdTime', peer({ keepaliveTime: '2m' }), ['spec.keepaliveTime: Invalid value: "object": keepaliveTime (2m) must not be greater than holdTime (90s)']],
  ['keepaliveTime with holdTime 0s', peer({ holdTime: '0s', keepaliveTime: '10s' }), ['spec.keepaliveTime: Invalid value: "object": keepaliveTime (10s) must not be greater than holdTime (0s)']],
  ['keepaliveTime that is not a duration', peer({ keepaliveTime: 'often' }), ['spec.keepaliveTime: Invalid value: "string": must be a duration such as 30s or 1m']],
  ['connectTime 0s', peer({ connectTime: '0s' }), ['spec.connectTime: Invalid value: "string": must be between 1s and 65535s']],
  ['peerAddress that is a CIDR', peer({ peerAddress: '192.0.2.0/24' }), ['spec.peerAddress: Invalid value: "string": "192.0.2.0/24" is not an IP address (no prefix length, no zone)']],
  ['sourceAddress that is a name', peer({ sourceAddress: 'eth0' }), ['spec.sourceAddress: Invalid value: "string": "eth0" is not an IP address (no prefix length, no zone)']],
  ['source and peer of different families', peer({ sourceAddress: '2001:db8::11' }), ['spec.sourceAddress: Invalid value: "object": sourceAddress and peerAddress must be of the same family']],
  ['routerID that is IPv6', peer({ routerID: '2001:db8::1' }), ['spec.routerID: Invalid value: "string": "2001:db8::1" is not an IPv4 address (the BGP identifier is 32 bits, RFC 4271 §4.2)']],
  ['routerID that is not an address', peer({ routerID: 'router-1' }), ['spec.routerID: Invalid value: "string": "router-1" is not an IPv4 address (the BGP identifier is 32 bits, RFC 4271 §4.2)']],
  ['routerID ::1', peer({ routerID: '::1' }), ['spec.routerID: Invalid value: "string": "::1" is not an IPv4 address (the BGP identifier is 32 bits, RFC 4271 §4.2)']],
  ['peerPort 0', peer({ peerPort: 0 }), ['spec.peerPort: Invalid value: 0: spec.peerPort in body should be greater than or equal to 1']],
  ['peerPort 65536', peer({ peerPort: 65536 }), ['spec.peerPort: Invalid value: 65536: spec.peerPort in body should be less than or equal to 65535']],
  ['ebgpMultiHop on an iBGP peer', peer({ peerASN: 64512, ebgpMultiHop: true }), ['spec.ebgpMultiHop: Invalid value: "object": ebgpMultiHop applies to eBGP sessions only (peerASN different from myASN, or dynamicASN external)']],
  ['ebgpMultiHop with dynamicASN internal', { myASN: 64512, dynamicASN: 'internal', peerAddress: '192.0.2.1', ebgpMultiHop: true }, ['spec.ebgpMultiHop: Invalid value: "object": ebgpMultiHop applies to eBGP sessions only (peerASN different from myASN, or dynamicASN external)']],
  ['no myASN and no peerAddress', { peerASN: 1 }, ['spec.myASN: Required value', 'spec.peerAddress: Required value', NOT_CHECKED]],
  ['a passwordSecret without a name', peer({ passwordSecret: {} }), ['spec.passwordSecret.name: Required value', NOT_CHECKED]],
]);

const alias = (name: string, value: string): unknown => ({ communities: [{ name, value }] });
table('Community', [
  ['standard and large aliases', { communities: [{ name: 'vpn-only', value: '65000:300' }, { name: 'NO_ADVERTISE', value: '65535:65282' }, { name: 'big', value: 'large:64500:1:2' }] }, []],
  ['an alias name with a colon', alias('a:b', '1:1'), [`spec.communities[0].name: Invalid value: "string": "a:b" is not an alias name: start with a letter and use only letters, digits, '_', '.' and '-'`]],
  ['an alias of an alias', alias('a', 'other'), ['spec.communities[0].value: Invalid value: "string": "other" is not a community AS:NN (two numbers up to 65535) or a large community large:A:B:C (three numbers up to 4294967295)']],
  ['a value above 65535', alias('a', '1:65536'), ['spec.communities[0].value: Invalid value: "string": "1:65536" is not a community AS:NN (two numbers up to 65535) or a large community large:A:B:C (three numbers up to 4294967295)']],
  ['one name twice', { communities: [{ name: 'a', value: '1:1' }, { name: 'a', value: '1:2' }] }, ['spec.communities[1]: Duplicate value: map[string]interface {}{"name":"a"}']],
  ['an alias without a value', { communities: [{ name: 'a' }] }, ['spec.communities[0].value: Required value', NOT_CHECKED]],
]);

table('BFDProfile', [
  ['every field at its bounds', { receiveInterval: 10, transmitInterval: 60000, detectMultiplier: 255, echoInterval: 10, echoMode: true, passiveMode: true, minimumTtl: 1 }, []],
  ['receiveInterval 9', { receiveInterval: 9 }, ['spec.receiveInterval: Invalid value: 9: spec.receiveInterval in body should be greater than or equal to 10']],
  ['transmitInterval 60001', { transmitInterval: 60001 }, ['spec.transmitInterval: Invalid value: 60001: spec.transmitInterval in body should be less than or equal to 60000']],
  ['detectMultiplier 1', { detectMultiplier: 1 }, ['spec.detectMultiplier: Invalid value: 1: spec.detectMultiplier in body should be greater than or equal to 2']],
  ['detectMultiplier 256', { detectMultiplier: 256 }, ['spec.detectMultiplier: Invalid value: 256: spec.detectMultiplier in body should be less than or equal to 255']],
  ['echoInterval 5', { echoInterval: 5 }, ['spec.echoInterval: Invalid value: 5: spec.echoInterval in body should be greater than or equal to 10']],
  ['minimumTtl 255', { minimumTtl: 255 }, ['spec.minimumTtl: Invalid value: 255: spec.minimumTtl in body should be less than or equal to 254']],
  ['minimumTtl 0', { minimumTtl: 0 }, ['spec.minimumTtl: Invalid value: 0: spec.minimumTtl in body should be greater than or equal to 1']],
  ['an interval as a string', { receiveInterval: '300ms' }, ['spec.receiveInterval: Invalid value: "string": spec.receiveInterval in body must be of type integer: "string"']],
]);

table('ServiceL2Status', [
  ['a full status', { node: 'node1', serviceName: 'web', serviceNamespace: 'default', ip: '192.0.2.200', interfaces: [{ name: 'eth0' }] }, []],
  ['an ip that is not an address', { ip: 'web' }, ['status.ip: Invalid value: "string": must be an IP address']],
  ['one interface twice', { interfaces: [{ name: 'eth0' }, { name: 'eth0' }] }, ['status.interfaces[1]: Duplicate value: map[string]interface {}{"name":"eth0"}']],
], { spec: undefined });

table('ServiceBGPStatus', [
  ['a full status', { node: 'node1', serviceName: 'web', serviceNamespace: 'default', peers: ['router'] }, []],
  ['peers that are not a list', { peers: 'router' }, ['status.peers: Invalid value: "string": status.peers in body must be of type array: "string"']],
], { spec: undefined });

table('BGPSessionState', [
  ['a full status', { node: 'node1', peer: 'router', peerAddress: '192.0.2.1', vrf: '', bgpStatus: 'Established', bfdStatus: 'Up', establishedSince: '2024-05-01T10:00:00Z', prefixesSent: 10000, lastError: 'hold timer expired', lastErrorTime: '2024-05-01T09:59:00Z', conditions: [] }, []],
  ['a state RFC 4271 does not have', { bgpStatus: 'Up' }, ['status.bgpStatus: Unsupported value: "Up": supported values: "Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established"', NOT_CHECKED]],
  ['a time that is not RFC 3339', { establishedSince: 'yesterday' }, ['status.establishedSince: Invalid value: "yesterday": status.establishedSince in body must be of type date-time: "yesterday"', NOT_CHECKED]],
  ['a negative prefix count', { prefixesSent: -1 }, ['status.prefixesSent: Invalid value: -1: status.prefixesSent in body should be greater than or equal to 0']],
  ['a peerAddress that is not an address', { peerAddress: 'router' }, ['status.peerAddress: Invalid value: "string": must be an IP address']],
], { spec: undefined });

describe('IPAddressPool address rules agree with shared/ip', () => {
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `192.0.${a}.${b}`);
  const group = fc.nat(0xffff).map((n) => n.toString(16));
  const ipv6 = fc
    .tuple(fc.array(group, { minLength: 8, maxLength: 8 }), fc.boolean(), fc.boolean())
    .map(([g, compress, upper]) => {
      let s = g.join(':');
      if (compress) s = s.replace(/(^|:)0(:0)+(:|$)/, '::');
      return upper ? s.toUpperCase() : s;
    });
  it('accepts exactly the ranges shared/ip accepts', () => {
    const c = byKind('IPAddressPool');
    fc.assert(
      fc.property(fc.oneof(fc.tuple(ipv4, ipv4), fc.tuple(ipv6, ipv6), fc.tuple(ipv4, ipv6)), ([a, b]) => {
        const text = `${a}-${b}`;
        const o = object('IPAddressPool', { addresses: [text] });
        c.applyDefaults(o);
        const celOK = c.validate(o).length === 0;
        assert.equal(celOK, parseAddressSpec(text).ok, text);
      }),
      { numRuns: 300 },
    );
  });
});

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether `.a.b[].c` names a field of the schema. */
function schemaHas(schema: Record<string, unknown>, path: string): boolean {
  let node: unknown = schema;
  for (const raw of path.split('.').filter(Boolean)) {
    const list = raw.endsWith('[]');
    const seg = list ? raw.slice(0, -2) : raw;
    if (seg === 'metadata' && node === schema) return true;
    const props = isObj(node) && isObj(node.properties) ? node.properties : undefined;
    if (!props || !(seg in props)) return false;
    node = props[seg];
    if (list) node = isObj(node) ? node.items : undefined;
  }
  return true;
}
