// Annotated golden bytes: hex pairs with `#` comments to the end of the line.
export function hex(text: string): Uint8Array {
  const digits = text.replace(/#.*$/gm, '').replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) throw new Error(`bad hex: ${digits}`);
  return Uint8Array.from(digits.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
