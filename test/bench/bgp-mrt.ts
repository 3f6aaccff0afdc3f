// An MRT TABLE_DUMP_V2 file (RFC 6396 §4.3) of locally originated routes, so GoBGP can
// load 10,000 prefixes in one `gobgp mrt inject global` instead of 10,000 CLI calls.
const MRT_TABLE_DUMP_V2 = 13;
const PEER_INDEX_TABLE = 1;
const RIB_IPV4_UNICAST = 2;
const RIB_IPV6_UNICAST = 4;

function record(subtype: number, body: Buffer, timestamp: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt32BE(timestamp, 0);
  h.writeUInt16BE(MRT_TABLE_DUMP_V2, 4);
  h.writeUInt16BE(subtype, 6);
  h.writeUInt32BE(body.length, 8);
  return Buffer.concat([h, body]);
}

/** RFC 6396 §4.3.1: one peer (index 0), the local speaker. */
function peerIndexTable(routerID: string, timestamp: number): Buffer {
  const id = Buffer.from(routerID.split('.').map(Number));
  const view = Buffer.alloc(0);
  const head = Buffer.alloc(4 + 2);
  id.copy(head, 0);
  head.writeUInt16BE(view.length, 4);
  // Peer type 0x02: IPv4 peer address, 4-octet AS.
  const peer = Buffer.concat([Buffer.from([0x02]), id, id, Buffer.from([0, 0, 0, 0])]);
  const count = Buffer.alloc(2);
  count.writeUInt16BE(1, 0);
  return record(PEER_INDEX_TABLE, Buffer.concat([head, view, count, peer]), timestamp);
}

function attr(flags: number, type: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([flags, type, value.length]), value]);
}

/**
 * ORIGIN IGP, empty AS_PATH, and the next hop: NEXT_HOP for IPv4; for IPv6 a whole
 * MP_REACH_NLRI (RFC 4760 §3), which is what GoBGP's reader expects rather than the
 * abbreviated form RFC 6396 §4.3.4 describes.
 */
function attributes(family: 4 | 6, nextHop: Buffer, prefix: Buffer): Buffer {
  const origin = attr(0x40, 1, Buffer.from([0]));
  const asPath = attr(0x40, 2, Buffer.alloc(0));
  const hop =
    family === 4
      ? attr(0x40, 3, nextHop)
      : attr(0x80, 14, Buffer.concat([Buffer.from([0, 2, 1, nextHop.length]), nextHop, Buffer.from([0, prefix.length * 8]), prefix]));
  return Buffer.concat([origin, asPath, hop]);
}

/** Host routes (/32 or /128) for `addresses` (4 or 16 octets each). */
export function mrtHostRoutes(family: 4 | 6, addresses: readonly Buffer[], routerID: string, nextHop: Buffer, timestamp = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [peerIndexTable(routerID, timestamp)];
  const bits = family === 4 ? 32 : 128;
  addresses.forEach((addr, seq) => {
    const attrs = attributes(family, nextHop, addr);
    const head = Buffer.alloc(4 + 1);
    head.writeUInt32BE(seq, 0);
    head.writeUInt8(bits, 4);
    const entry = Buffer.alloc(2 + 2 + 4 + 2);
    entry.writeUInt16BE(1, 0); // entry count
    entry.writeUInt16BE(0, 2); // peer index
    entry.writeUInt32BE(timestamp, 4);
    entry.writeUInt16BE(attrs.length, 8);
    parts.push(record(family === 4 ? RIB_IPV4_UNICAST : RIB_IPV6_UNICAST, Buffer.concat([head, addr, entry, attrs]), timestamp));
  });
  return Buffer.concat(parts);
}
