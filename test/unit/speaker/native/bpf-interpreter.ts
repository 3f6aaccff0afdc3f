// A classic BPF interpreter for the instructions herald's filters use, with the kernel's
// semantics (Documentation/networking/filter.rst): loads past the end of the packet end
// the program with 0 (drop), ancillary loads read metadata. Lets the filter be tested
// without root and without a kernel.
import { BPF, SKF_AD_OFF, SKF_AD_PKTTYPE, SKF_AD_VLAN_TAG_PRESENT, type BpfInstruction } from '../../../../speaker/native/bpf.js';

export interface PacketMeta {
  readonly pkttype: number;
  readonly vlanTagPresent?: boolean;
}

export function runFilter(program: readonly BpfInstruction[], packet: Uint8Array, meta: PacketMeta): number {
  let a = 0;
  let x = 0;
  const load = (offset: number, size: number): number | undefined => {
    if (offset >= (SKF_AD_OFF >>> 0)) {
      const ad = offset - (SKF_AD_OFF >>> 0);
      if (ad === SKF_AD_PKTTYPE) return meta.pkttype;
      if (ad === SKF_AD_VLAN_TAG_PRESENT) return meta.vlanTagPresent ? 1 : 0;
      throw new Error(`ancillary load ${ad} not modelled`);
    }
    if (offset + size > packet.length) return undefined;
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + packet[offset + i]!;
    return v;
  };
  for (let pc = 0; pc < program.length; pc++) {
    const { code, jt, jf, k } = program[pc]!;
    const cls = code & 0x07;
    const size = code & 0x18;
    const mode = code & 0xe0;
    const bytes = size === BPF.W ? 4 : size === BPF.H ? 2 : 1;
    switch (cls) {
      case BPF.LD: {
        const v = mode === BPF.ABS ? load(k, bytes) : mode === BPF.IND ? load((x + k) >>> 0, bytes) : undefined;
        if (v === undefined) return 0;
        a = v >>> 0;
        break;
      }
      case BPF.ALU: {
        const op = code & 0xf0;
        const src = code & BPF.X ? x : k;
        if (op === BPF.ADD) a = (a + src) >>> 0;
        else if (op === BPF.LSH) a = (a << src) >>> 0;
        else throw new Error(`alu op ${op} not modelled`);
        break;
      }
      case BPF.MISC:
        if ((code & 0xf8) !== BPF.TAX) throw new Error('misc op not modelled');
        x = a;
        break;
      case BPF.JMP: {
        const op = code & 0xf0;
        const taken = op === BPF.JEQ ? a === k : op === BPF.JGT ? a > k : undefined;
        if (taken === undefined) throw new Error(`jump op ${op} not modelled`);
        pc += taken ? jt : jf;
        break;
      }
      case BPF.RET:
        return k;
      default:
        throw new Error(`class ${cls} not modelled`);
    }
  }
  throw new Error('program fell off its end');
}
