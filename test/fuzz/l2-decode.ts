// Fuzzes the L2 decoders: mutated ARP and NDP frames (bit flips, interesting bytes and
// 16-bit values, truncation, extension, insertion, deletion, splices, and half the time
// repaired IPv6 lengths and ICMPv6 checksums so mutations reach the deeper checks) must
// decode to a value, a drop reason, or an L2DecodeError; anything else is a bug.
//
//   node --import tsx test/fuzz/l2-decode.ts [iterations=1000000] [--seed N]
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeArpFrame, gratuitousArpFrame } from '../../speaker/l2/arp.js';
import { L2DecodeError, encodeEthernet } from '../../speaker/l2/ethernet.js';
import {
  decodeNdpFrame,
  encodeNdpFrame,
  icmpv6Checksum,
  solicitedNodeAddress,
  unsolicitedNeighborAdvertisementFrame,
} from '../../speaker/l2/ndp.js';
import { CAPTURED_ARP_REPLY, CAPTURED_ARP_REQUEST, CAPTURED_NA, CAPTURED_NS, CAPTURED_RS } from '../unit/speaker/l2/fixtures.js';

export interface FuzzReport {
  readonly iterations: number;
  readonly seed: number;
  /** decoder name and outcome (`ok`, a drop reason, or `malformed:<layer>`) -> count */
  readonly outcomes: Record<string, number>;
}

/** A decoder threw something other than L2DecodeError. */
export class FuzzFailure extends Error {
  constructor(
    readonly input: Uint8Array,
    readonly decoder: string,
    override readonly cause: unknown,
  ) {
    super(`${decoder} threw ${String(cause)} on ${Buffer.from(input).toString('hex')}`);
  }
}

const SVC = 0x20010db8000000000000000000000010n;
const PEER = 0x20010db8000000000000000000000002n;
const MAC_A = '02:00:00:00:0a:01';
const MAC_B = '02:00:00:00:0b:01';

function seeds(): Uint8Array[] {
  const ns = (source: bigint, withLinkLayer: boolean) =>
    encodeNdpFrame({
      ethernet: { destination: '33:33:ff:00:00:10', source: MAC_B },
      ip: { trafficClass: 0, flowLabel: 0, hopLimit: 255, source, destination: solicitedNodeAddress(SVC) },
      message: { type: 'neighbor-solicitation', target: SVC, ...(withLinkLayer ? { sourceLinkLayerAddress: MAC_B } : {}) },
    });
  const tagged = (frame: Uint8Array) =>
    encodeEthernet(
      { destination: 'ff:ff:ff:ff:ff:ff', source: MAC_B, vlan: { priority: 0, dropEligible: false, id: 7 }, etherType: (frame[12]! << 8) | frame[13]! },
      frame.subarray(14),
    );
  return [
    CAPTURED_ARP_REQUEST,
    CAPTURED_ARP_REPLY,
    CAPTURED_NS,
    CAPTURED_NA,
    CAPTURED_RS,
    gratuitousArpFrame(0xcb007107n, MAC_A, 'request'),
    unsolicitedNeighborAdvertisementFrame(SVC, MAC_A),
    ns(PEER, true),
    ns(0n, false),
    tagged(CAPTURED_ARP_REQUEST),
    tagged(CAPTURED_NS),
  ];
}

/** mulberry32: small, seedable, good enough to pick mutations. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0, 1, 2, 4, 6, 8, 0x33, 0x3a, 0x3c, 0x7f, 0x80, 0x81, 0x86, 0x87, 0x88, 0xdd, 0xfe, 0xff];
const INTERESTING16 = [0, 1, 0x0800, 0x0806, 0x8100, 0x86dd, 0x7fff, 0x8000, 0xffff];

function mutate(input: Uint8Array, random: () => number, all: Uint8Array[]): Uint8Array {
  let b = Uint8Array.from(input);
  const pos = (n = b.length) => Math.floor(random() * Math.max(n, 1));
  const rounds = 1 + Math.floor(random() * 4);
  for (let r = 0; r < rounds; r++) {
    switch (Math.floor(random() * 9)) {
      case 0:
        if (b.length > 0) b[pos()]! ^= 1 << Math.floor(random() * 8);
        break;
      case 1:
        if (b.length > 0) b[pos()] = INTERESTING[pos(INTERESTING.length)]!;
        break;
      case 2:
        if (b.length > 1) {
          const at = pos(b.length - 1);
          const v = INTERESTING16[pos(INTERESTING16.length)]!;
          b[at] = v >> 8;
          b[at + 1] = v & 0xff;
        }
        break;
      case 3:
        if (b.length > 0) b[pos()] = Math.floor(random() * 256);
        break;
      case 4:
        b = b.subarray(0, pos(b.length + 1));
        break;
      case 5: {
        const extra = Uint8Array.from({ length: 1 + pos(24) }, () => Math.floor(random() * 256));
        const out = new Uint8Array(b.length + extra.length);
        out.set(b);
        out.set(extra, b.length);
        b = out;
        break;
      }
      case 6: {
        const at = pos(b.length + 1);
        b = Uint8Array.from([...b.subarray(0, at), Math.floor(random() * 256), ...b.subarray(at)]);
        break;
      }
      case 7: {
        const at = pos();
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)]);
        break;
      }
      case 8: {
        const other = all[pos(all.length)]!;
        const at = pos();
        b = Uint8Array.from([...b.subarray(0, at), ...other.subarray(Math.min(at, other.length))]);
        break;
      }
    }
  }
  return b;
}

/** Makes the IPv6 payload length and ICMPv6 checksum consistent again, when it can. */
function repair(b: Uint8Array, random: () => number): void {
  const l3 = b.length >= 18 && b[12] === 0x81 && b[13] === 0x00 ? 18 : 14;
  if (b.length < l3 + 40 || b[l3 - 2] !== 0x86 || b[l3 - 1] !== 0xdd) return;
  if (random() < 0.7) {
    const len = Math.min(b.length - l3 - 40, 0xffff);
    b[l3 + 4] = len >> 8;
    b[l3 + 5] = len & 0xff;
  }
  const end = Math.min(b.length, l3 + 40 + ((b[l3 + 4]! << 8) | b[l3 + 5]!));
  let next = b[l3 + 6];
  let at = l3 + 40;
  while ((next === 0 || next === 60) && at + 2 <= end) {
    next = b[at];
    at += (b[at + 1]! + 1) * 8;
  }
  if (next !== 58 || at + 4 > end) return;
  const icmp = b.subarray(at, end);
  const addr = (o: number) => BigInt('0x' + Buffer.from(b.subarray(l3 + o, l3 + o + 16)).toString('hex'));
  icmp[2] = 0;
  icmp[3] = 0;
  const sum = icmpv6Checksum(addr(8), addr(24), icmp);
  icmp[2] = sum >> 8;
  icmp[3] = sum & 0xff;
}

const DECODERS = { arp: decodeArpFrame, ndp: decodeNdpFrame } as const;

/** Runs `iterations` mutated inputs through every decoder; throws FuzzFailure on a bug. */
export function fuzzL2Decode(options: { iterations: number; seed: number }): FuzzReport {
  const random = rng(options.seed);
  const all = seeds();
  const outcomes: Record<string, number> = {};
  for (let i = 0; i < options.iterations; i++) {
    const input = mutate(all[Math.floor(random() * all.length)]!, random, all);
    if (random() < 0.5) repair(input, random);
    for (const [name, decode] of Object.entries(DECODERS)) {
      let outcome: string;
      try {
        const r = decode(input);
        outcome = r.ok ? 'ok' : r.drop;
      } catch (err) {
        if (!(err instanceof L2DecodeError)) throw new FuzzFailure(input, name, err);
        outcome = `malformed:${err.layer}`;
      }
      const key = `${name} ${outcome}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
  }
  return { iterations: options.iterations, seed: options.seed, outcomes };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { seed: { type: 'string' } } });
  const iterations = Number(positionals[0] ?? 1_000_000);
  const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
  if (!Number.isSafeInteger(iterations) || iterations <= 0 || !Number.isSafeInteger(seed)) {
    console.error('usage: l2-decode.ts [iterations] [--seed N]');
    return 2;
  }
  const started = Date.now();
  try {
    const report = fuzzL2Decode({ iterations, seed });
    const rows = Object.entries(report.outcomes).sort(([a], [b]) => a.localeCompare(b));
    for (const [k, n] of rows) console.log(`${String(n).padStart(9)}  ${k}`);
    console.log(`\n${iterations} inputs, seed ${seed}, ${((Date.now() - started) / 1000).toFixed(1)} s: decoders threw only L2DecodeError`);
    return 0;
  } catch (err) {
    console.error(`seed ${seed}: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof FuzzFailure) console.error(err.cause);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
}
