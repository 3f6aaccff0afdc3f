// Fuzzes the BGP decoder: mutates real and golden messages (byte and bit flips,
// truncations, length-field edits, splices, insertions, deletions) and checks that
// decoding either succeeds or throws BGPProtocolError — never anything else — and that
// whatever decodes cleanly re-encodes to the same message.
//
//   node --import tsx test/fuzz/bgp-decode.ts [--count 1000000] [--seed 1]
//
// Prints messages/s and what the mutants came to; exits 1 on a foreign exception.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isDeepStrictEqual } from 'node:util';
import type { CodecContext } from '../../speaker/bgp/context.js';
import { BGPProtocolError } from '../../speaker/bgp/errors.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../speaker/bgp/family.js';
import { Framer } from '../../speaker/bgp/framer.js';
import { decodeMessage, encodeMessage, KEEPALIVE, type BGPMessage } from '../../speaker/bgp/messages.js';
import { buildOpen } from '../../speaker/bgp/negotiate.js';
import { notification, shutdownNotification } from '../../speaker/bgp/notification.js';
import { toPrefix } from '../../speaker/bgp/prefix.js';
import { buildAnnouncements, buildWithdrawals } from '../../speaker/bgp/update-builder.js';
import { endOfRib } from '../../speaker/bgp/update.js';

const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/bgp');

const contexts: CodecContext[] = [
  { fourOctetAS: true, maxMessageSize: 4096 },
  { fourOctetAS: false, maxMessageSize: 4096 },
  { fourOctetAS: true, maxMessageSize: 65535, internal: true },
  { fourOctetAS: true, maxMessageSize: 65535, internal: false },
  { fourOctetAS: false, maxMessageSize: 65535, internal: false },
];

/** Golden-style messages of every type and attribute, plus everything captured from real daemons. */
export function seeds(): Buffer[] {
  const four = contexts[0] as CodecContext;
  const two = contexts[1] as CodecContext;
  const attrs = {
    asPath: [64512, 4200000000],
    nextHop: '192.0.2.11',
    nextHopV6: '2001:db8:0:2::11',
    linkLocalNextHop: 'fe80::11',
    med: 5,
    localPref: 200,
    communities: [0xfde80064, 0xffffff01],
    largeCommunities: [[64512, 1, 2] as const],
  };
  const prefixes = ['203.0.113.10/32', '203.0.113.0/24', '198.51.100.0/25', '0.0.0.0/0', '2001:db8:ff::/120', '2001:db8::1/128', '2001:db8::/32'].map(toPrefix);
  const messages: [BGPMessage, CodecContext][] = [
    [buildOpen({ asn: 64512, bgpIdentifier: '192.0.2.11', holdTime: 90, families: [IPV4_UNICAST, IPV6_UNICAST], gracefulRestart: { restartTime: 120, restarting: true, forwardingState: true }, enhancedRouteRefresh: true }), four],
    [buildOpen({ asn: 4200000000, bgpIdentifier: '198.51.100.1', holdTime: 0, families: [IPV6_UNICAST] }), four],
    [KEEPALIVE, four],
    ...buildAnnouncements(prefixes, attrs, four).map((m): [BGPMessage, CodecContext] => [m, four]),
    ...buildAnnouncements(prefixes, { ...attrs, localPref: undefined }, two).map((m): [BGPMessage, CodecContext] => [m, two]),
    ...buildWithdrawals(prefixes, four).map((m): [BGPMessage, CodecContext] => [m, four]),
    [
      {
        type: 'update',
        withdrawn: [],
        attributes: [
          { type: 'origin', origin: 'egp' },
          { type: 'asPath', segments: [{ type: 'set', asns: [1, 2] }, { type: 'confedSequence', asns: [3] }] },
          { type: 'nextHop', nextHop: '192.0.2.1' },
          { type: 'atomicAggregate' },
          { type: 'aggregator', asn: 64512, address: '192.0.2.1' },
          { type: 'originatorId', originatorId: '192.0.2.9' },
          { type: 'clusterList', clusterIds: ['192.0.2.1', '192.0.2.2'] },
          { type: 'unknown', typeCode: 16, flags: 0xc0, value: Buffer.from('0002fde800000064', 'hex') },
        ],
        nlri: [toPrefix('203.0.113.0/24')],
      },
      four,
    ],
    [{ type: 'update', withdrawn: [], attributes: [{ type: 'as4Aggregator', asn: 4200000000, address: '192.0.2.1' }, { type: 'aggregator', asn: 23456, address: '192.0.2.1' }], nlri: [] }, two],
    [endOfRib(IPV4_UNICAST), four],
    [endOfRib(IPV6_UNICAST), four],
    [shutdownNotification(2, 'maintenance window — back at 10:00'), four],
    [notification(3, 11, Buffer.from('4002', 'hex')), four],
    [{ type: 'routeRefresh', afi: 2, safi: 1, subtype: 1 }, four],
  ];
  const out = messages.map(([m, c]) => encodeMessage(m, c));
  for (const daemon of readdirSync(fixturesDir, { withFileTypes: true })) {
    if (!daemon.isDirectory()) continue;
    for (const f of readdirSync(join(fixturesDir, daemon.name))) {
      if (!f.endsWith('.json')) continue;
      const capture = JSON.parse(readFileSync(join(fixturesDir, daemon.name, f), 'utf8')) as { sent: string[]; received: string[] };
      for (const h of [...capture.sent, ...capture.received]) out.push(Buffer.from(h, 'hex'));
    }
  }
  return out;
}

/** xorshift32: deterministic, fast, good enough to pick mutations. */
class Rand {
  constructor(private s: number) {
    if (this.s === 0) this.s = 0x9e3779b9;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  below(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
}

const interesting = [0, 1, 2, 3, 4, 0x7f, 0x80, 0xfe, 0xff];

function fixLength(b: Buffer): Buffer {
  if (b.length >= 19) b.writeUInt16BE(Math.min(b.length, 0xffff), 16);
  return b;
}

/** A position, nine times in ten past the header, where the interesting decoders are. */
function position(b: Buffer, r: Rand, inclusiveEnd = false): number {
  const end = b.length + (inclusiveEnd ? 1 : 0);
  if (b.length > 19 && r.chance(0.9)) return 19 + r.below(end - 19);
  return r.below(end);
}

export function mutate(seed: Buffer, other: Buffer, r: Rand): Buffer {
  let b = Buffer.from(seed);
  const rounds = 1 + r.below(3);
  for (let i = 0; i < rounds; i++) {
    switch (r.below(8)) {
      case 0: // byte set, biased into the body
        if (b.length > 0) b[position(b, r)] = r.chance(0.5) ? (interesting[r.below(interesting.length)] as number) : r.below(256);
        break;
      case 1: // bit flip
        if (b.length > 0) {
          const at = position(b, r);
          b[at] = (b[at] as number) ^ (1 << r.below(8));
        }
        break;
      case 2: // truncate
        b = b.subarray(0, position(b, r, true));
        break;
      case 3: {
        // a 1- or 2-octet length-like field set to a boundary or off-by-one value
        if (b.length < 21) break;
        const at = 19 + r.below(b.length - 20);
        const v = b.readUInt16BE(at);
        const choices = [0, 1, 0xff, 0x100, 0xffff, v + 1, v - 1, b.length - at, b.length - at - 2];
        const x = (choices[r.below(choices.length)] as number) & 0xffff;
        if (r.chance(0.5)) b.writeUInt16BE(x, at);
        else b[at] = x & 0xff;
        break;
      }
      case 4: {
        // splice: the head of one message, the tail of another
        const cut = position(b, r, true);
        b = Buffer.concat([b.subarray(0, cut), other.subarray(position(other, r, true))]);
        break;
      }
      case 5: {
        // insert random octets
        const at = position(b, r, true);
        const ins = Buffer.alloc(1 + r.below(8));
        for (let k = 0; k < ins.length; k++) ins[k] = r.below(256);
        b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
        break;
      }
      case 6: {
        // delete a run
        const at = position(b, r, true);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + r.below(8))]);
        break;
      }
      default: {
        // duplicate a run (repeated attributes, prefixes, capabilities)
        const at = position(b, r, true);
        const run = b.subarray(at, at + 1 + r.below(16));
        b = Buffer.concat([b.subarray(0, at), run, b.subarray(at)]);
      }
    }
  }
  // Mostly keep the header consistent so mutants reach the body decoders.
  return r.chance(0.85) ? fixLength(Buffer.from(b)) : Buffer.from(b);
}

export interface FuzzReport {
  messages: number;
  decoded: number;
  treatAsWithdraw: number;
  discarded: number;
  protocolErrors: Map<string, number>;
  foreign: { error: string; hex: string }[];
  reencodeMismatches: { hex: string; detail: string }[];
  seconds: number;
}

/** Runs `count` mutants from `seedValue`; every 16th also goes through the framer in random chunks. */
export function fuzz(count: number, seedValue = 1): FuzzReport {
  const pool = seeds();
  const r = new Rand(seedValue);
  const report: FuzzReport = {
    messages: 0,
    decoded: 0,
    treatAsWithdraw: 0,
    discarded: 0,
    protocolErrors: new Map(),
    foreign: [],
    reencodeMismatches: [],
    seconds: 0,
  };
  const started = performance.now();
  const noteError = (err: unknown, input: Buffer): void => {
    if (err instanceof BGPProtocolError) {
      const key = `${err.code}/${err.subcode}`;
      report.protocolErrors.set(key, (report.protocolErrors.get(key) ?? 0) + 1);
    } else if (report.foreign.length < 20) {
      report.foreign.push({ error: err instanceof Error ? (err.stack ?? err.message) : String(err), hex: input.toString('hex') });
    } else {
      report.foreign.push({ error: 'more', hex: '' });
    }
  };
  for (let i = 0; i < count; i++) {
    const input = mutate(pool[r.below(pool.length)] as Buffer, pool[r.below(pool.length)] as Buffer, r);
    const ctx = contexts[r.below(contexts.length)] as CodecContext;
    report.messages++;
    let m: BGPMessage;
    try {
      m = decodeMessage(input, ctx);
    } catch (err) {
      noteError(err, input);
      continue;
    }
    report.decoded++;
    if (m.type === 'update' && m.treatAsWithdraw) report.treatAsWithdraw++;
    if (m.type === 'update' && m.discarded) report.discarded++;
    const sound = !(m.type === 'update' && (m.treatAsWithdraw || m.discarded));
    if (sound && (i & 7) === 0) {
      try {
        const again = decodeMessage(encodeMessage(m, ctx), ctx);
        if (!isDeepStrictEqual(again, m) && report.reencodeMismatches.length < 20) {
          report.reencodeMismatches.push({ hex: input.toString('hex'), detail: `${JSON.stringify(m)} != ${JSON.stringify(again)}` });
        }
      } catch (err) {
        if (report.reencodeMismatches.length < 20) report.reencodeMismatches.push({ hex: input.toString('hex'), detail: String(err) });
      }
    }
    if ((i & 15) === 0) {
      const framer = new Framer(ctx.maxMessageSize);
      try {
        let pos = 0;
        while (pos < input.length) {
          const n = 1 + r.below(40);
          for (const frame of framer.push(input.subarray(pos, pos + n))) decodeMessage(frame, ctx);
          pos += n;
        }
      } catch (err) {
        if (!(err instanceof BGPProtocolError)) noteError(err, input);
      }
    }
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

function main(): number {
  const { values } = parseArgs({ options: { count: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '1' } } });
  const count = Number(values.count);
  const seed = Number(values.seed);
  console.log(`bgp-decode fuzz: ${count} mutants from ${seeds().length} seeds, seed ${seed}`);
  const rep = fuzz(count, seed);
  const rate = Math.round(rep.messages / rep.seconds);
  console.log(`${rep.messages} messages in ${rep.seconds.toFixed(1)} s (${rate} messages/s)`);
  console.log(`decoded ${rep.decoded} (treat-as-withdraw ${rep.treatAsWithdraw}, attribute discard ${rep.discarded}); BGPProtocolError ${rep.messages - rep.decoded - rep.foreign.length}`);
  const top = [...rep.protocolErrors.entries()].sort((a, b) => b[1] - a[1]);
  console.log(`NOTIFICATIONs (code/subcode: count): ${top.map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  if (rep.reencodeMismatches.length > 0) {
    console.log(`re-encode mismatches: ${rep.reencodeMismatches.length}`);
    for (const m of rep.reencodeMismatches.slice(0, 5)) console.log(`  ${m.hex}\n    ${m.detail}`);
  }
  if (rep.foreign.length > 0) {
    console.log(`FOREIGN EXCEPTIONS: ${rep.foreign.length}`);
    for (const f of rep.foreign.slice(0, 5)) console.log(`  input ${f.hex}\n  ${f.error}`);
    return 1;
  }
  return rep.reencodeMismatches.length > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main();
