// BGP community strings as MetalLB spells them: `65000:100` (RFC 1997, two 16-bit halves)
// and `large:1:2:3` (RFC 8092, three 32-bit numbers). Anything of neither shape may be the
// name of a Community alias, so the parser tells "not a community at all" apart from "a
// community with a value out of range" (MetalLB's ErrInvalidCommunityFormat vs Value).

export type CommunityValue =
  | { readonly kind: 'standard'; readonly value: number }
  | { readonly kind: 'large'; readonly value: readonly [number, number, number] };

export type CommunityParse =
  | { ok: true; value: CommunityValue }
  /** `shape: false`: not written like a community, so possibly an alias name. */
  | { ok: false; shape: boolean; error: string };

const STANDARD = /^(\d+):(\d+)$/;
const LARGE = /^large:(\d+):(\d+):(\d+)$/;
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;

function inRange(digits: string, max: number): number | undefined {
  // Leading zeros are accepted as Go's strconv.ParseUint accepts them.
  const trimmed = digits.replace(/^0+(?=\d)/, '');
  if (trimmed.length > 10) return undefined;
  const n = Number(trimmed);
  return n <= max ? n : undefined;
}

export function parseCommunity(text: string): CommunityParse {
  const std = STANDARD.exec(text);
  if (std) {
    const asn = inRange(std[1] ?? '', MAX16);
    const local = inRange(std[2] ?? '', MAX16);
    if (asn === undefined || local === undefined) {
      return { ok: false, shape: true, error: `community "${text}": both halves of AS:NN must be 0..65535 (RFC 1997); use large:a:b:c for 32-bit values` };
    }
    return { ok: true, value: { kind: 'standard', value: asn * 0x10000 + local } };
  }
  const large = LARGE.exec(text);
  if (large) {
    const parts = [large[1], large[2], large[3]].map((d) => inRange(d ?? '', MAX32));
    const [a, b, c] = parts;
    if (a === undefined || b === undefined || c === undefined) {
      return { ok: false, shape: true, error: `large community "${text}": each of the three numbers must be 0..4294967295 (RFC 8092)` };
    }
    return { ok: true, value: { kind: 'large', value: [a, b, c] } };
  }
  const shape = text.startsWith('large:') || /^[\d:]+$/.test(text);
  return {
    ok: false,
    shape,
    error: shape
      ? `"${text}" is not a community: write AS:NN (65000:100) or large:a:b:c (large:64512:1:2)`
      : `"${text}" is neither a community (65000:100, large:64512:1:2) nor a known Community alias`,
  };
}

/** `65000:100` / `large:1:2:3` text of a value. */
export function formatCommunity(c: CommunityValue): string {
  if (c.kind === 'large') return `large:${c.value.join(':')}`;
  return `${Math.floor(c.value / 0x10000)}:${c.value % 0x10000}`;
}
