// Classic BPF (the socket-filter language of SO_ATTACH_FILTER, linux/filter.h and
// Documentation/networking/filter.rst): a tiny assembler with symbolic jump labels, and
// the program herald attaches to its packet sockets. Pure: no I/O.
import { endianness } from 'node:os';

/** One instruction, as struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }. */
export interface BpfInstruction {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

// Opcode parts, linux/bpf_common.h.
export const BPF = {
  LD: 0x00, LDX: 0x01, ALU: 0x04, JMP: 0x05, RET: 0x06, MISC: 0x07,
  W: 0x00, H: 0x08, B: 0x10,
  IMM: 0x00, ABS: 0x20, IND: 0x40,
  ADD: 0x00, LSH: 0x60,
  JEQ: 0x10, JGT: 0x20,
  K: 0x00, X: 0x08,
  TAX: 0x00,
} as const;

// Ancillary loads: offsets past SKF_AD_OFF read socket-buffer metadata (linux/filter.h).
export const SKF_AD_OFF = -0x1000;
export const SKF_AD_PKTTYPE = 4;
export const SKF_AD_VLAN_TAG_PRESENT = 48;

// sll_pkttype values, linux/if_packet.h.
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;
export const PACKET_OUTGOING = 4;

/** A jump target: an instruction index resolved later from a label name. */
type Target = string | number;

/** An instruction whose jumps may name labels; a string alone defines a label. */
export type AsmLine =
  | string
  | { op: 'ld' | 'ldh' | 'ldb'; abs: number }
  | { op: 'ldb'; ind: number }
  | { op: 'add' | 'lsh'; k: number }
  | { op: 'tax' }
  | { op: 'jeq' | 'jgt'; k: number; jt?: Target; jf?: Target }
  | { op: 'ret'; k: number };

/** Resolves labels to the relative offsets classic BPF jumps use (forward only). */
export function assemble(lines: readonly AsmLine[]): BpfInstruction[] {
  const labels = new Map<string, number>();
  let n = 0;
  for (const line of lines) {
    if (typeof line === 'string') labels.set(line, n);
    else n++;
  }
  const out: BpfInstruction[] = [];
  const offset = (target: Target | undefined, at: number): number => {
    if (target === undefined) return 0;
    const to = typeof target === 'number' ? target : labels.get(target);
    if (to === undefined) throw new Error(`bpf: unknown label ${String(target)}`);
    const rel = to - at - 1;
    if (rel < 0 || rel > 255) throw new Error(`bpf: jump to ${String(target)} out of range`);
    return rel;
  };
  for (const line of lines) {
    if (typeof line === 'string') continue;
    const at = out.length;
    const u32 = (v: number) => v >>> 0;
    switch (line.op) {
      case 'ld':
      case 'ldh':
      case 'ldb': {
        const size = line.op === 'ld' ? BPF.W : line.op === 'ldh' ? BPF.H : BPF.B;
        if ('ind' in line) out.push({ code: BPF.LD | size | BPF.IND, jt: 0, jf: 0, k: u32(line.ind) });
        else out.push({ code: BPF.LD | size | BPF.ABS, jt: 0, jf: 0, k: u32(line.abs) });
        break;
      }
      case 'add':
      case 'lsh':
        out.push({ code: BPF.ALU | (line.op === 'add' ? BPF.ADD : BPF.LSH) | BPF.K, jt: 0, jf: 0, k: u32(line.k) });
        break;
      case 'tax':
        out.push({ code: BPF.MISC | BPF.TAX, jt: 0, jf: 0, k: 0 });
        break;
      case 'jeq':
      case 'jgt':
        out.push({
          code: BPF.JMP | (line.op === 'jeq' ? BPF.JEQ : BPF.JGT) | BPF.K,
          jt: offset(line.jt, at),
          jf: offset(line.jf, at),
          k: u32(line.k),
        });
        break;
      case 'ret':
        out.push({ code: BPF.RET | BPF.K, jt: 0, jf: 0, k: u32(line.k) });
        break;
    }
  }
  return out;
}

/** The bytes SO_ATTACH_FILTER takes: struct sock_filter[] in host byte order. */
export function encodeProgram(program: readonly BpfInstruction[]): Buffer {
  const buf = Buffer.alloc(program.length * 8);
  const le = endianness() === 'LE';
  program.forEach((ins, i) => {
    const o = i * 8;
    if (le) buf.writeUInt16LE(ins.code, o);
    else buf.writeUInt16BE(ins.code, o);
    buf.writeUInt8(ins.jt, o + 2);
    buf.writeUInt8(ins.jf, o + 3);
    if (le) buf.writeUInt32LE(ins.k, o + 4);
    else buf.writeUInt32BE(ins.k, o + 4);
  });
  return buf;
}

// Bytes of a frame the filter keeps: every ARP/NDP frame fits, the rest is never asked for.
const SNAP = 0xffff;

/**
 * Accepts exactly what the L2 responder answers, on an Ethernet packet socket:
 * - frames received by this host: broadcast, multicast or addressed to it; not frames for
 *   other hosts seen in promiscuous mode, and not this host's own outgoing frames, which
 *   an ETH_P_ALL socket would otherwise see (packet(7));
 * - untagged only: a VLAN-tagged frame arriving on the parent interface belongs to the
 *   VLAN (the kernel has moved its tag to metadata, hence the ancillary load);
 * - ARP requests for Ethernet/IPv4 (RFC 826: htype 1, ptype 0x0800, op 1);
 * - IPv6 neighbor solicitations (ICMPv6 type 135, RFC 4861 §4.3), directly after the IPv6
 *   header or after one Hop-by-Hop or Destination Options header (RFC 8200 §4.3, §4.6).
 * The codecs in speaker/l2 still validate everything; the filter only spares the copies.
 */
export const NEIGHBOR_REQUEST_FILTER: readonly BpfInstruction[] = assemble([
  { op: 'ld', abs: SKF_AD_OFF + SKF_AD_PKTTYPE },
  { op: 'jgt', k: PACKET_MULTICAST, jt: 'drop' },
  { op: 'ld', abs: SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT },
  { op: 'jeq', k: 0, jf: 'drop' },
  { op: 'ldh', abs: 12 }, // EtherType
  { op: 'jeq', k: 0x0806, jf: 'ipv6' },
  { op: 'ldh', abs: 14 }, // ARP hardware type
  { op: 'jeq', k: 1, jf: 'drop' },
  { op: 'ldh', abs: 16 }, // ARP protocol type
  { op: 'jeq', k: 0x0800, jf: 'drop' },
  { op: 'ldh', abs: 20 }, // ARP operation
  { op: 'jeq', k: 1, jt: 'accept', jf: 'drop' },
  'ipv6',
  { op: 'jeq', k: 0x86dd, jf: 'drop' },
  { op: 'ldb', abs: 20 }, // IPv6 Next Header
  { op: 'jeq', k: 58, jt: 'icmp' },
  { op: 'jeq', k: 0, jt: 'ext' },
  { op: 'jeq', k: 60, jt: 'ext', jf: 'drop' },
  'icmp',
  { op: 'ldb', abs: 54 }, // ICMPv6 type
  { op: 'jeq', k: 135, jt: 'accept', jf: 'drop' },
  'ext',
  { op: 'ldb', abs: 54 }, // extension header's Next Header
  { op: 'jeq', k: 58, jf: 'drop' },
  { op: 'ldb', abs: 55 }, // Hdr Ext Len, in 8-octet units beyond the first 8
  { op: 'add', k: 1 },
  { op: 'lsh', k: 3 },
  { op: 'tax' },
  { op: 'ldb', ind: 54 }, // ICMPv6 type after the extension header
  { op: 'jeq', k: 135, jt: 'accept', jf: 'drop' },
  'accept',
  { op: 'ret', k: SNAP },
  'drop',
  { op: 'ret', k: 0 },
]);
