/** Building blocks shared by the account, instruction and event codecs. */
import {
  addCodecSizePrefix,
  fixCodecSize,
  getBytesCodec,
  getU32Codec,
  getUtf8Codec,
  type Codec,
  type ReadonlyUint8Array,
} from '@solana/kit';

/** `[u8; N]`. */
export const bytes = (n: number): Codec<ReadonlyUint8Array> => fixCodecSize(getBytesCodec(), n);
/** Borsh `String`: u32 length + UTF-8. */
export const borshString = (): Codec<string> => addCodecSizePrefix(getUtf8Codec(), getU32Codec());

export function bytesEqual(a: ReadonlyUint8Array, b: ReadonlyUint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function toHex(b: ReadonlyUint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.trim().replace(/^0x/i, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`not hex: ${hex}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Text of a zero-padded fixed ASCII field (GPU model names). */
export function fixedText(b: ReadonlyUint8Array, len = b.length): string {
  let end = Math.min(len, b.length);
  const zero = b.indexOf(0);
  if (zero >= 0 && zero < end) end = zero;
  return new TextDecoder().decode(b.slice(0, end));
}

/** Zero-padded fixed ASCII field from text; throws when too long or not printable ASCII. */
export function toFixedAscii(text: string, n: number): Uint8Array {
  const raw = new TextEncoder().encode(text);
  if (raw.length === 0 || raw.length > n || raw.some((c) => c < 0x20 || c >= 0x7f)) {
    throw new Error(`must be 1-${n} characters of printable ASCII`);
  }
  const out = new Uint8Array(n);
  out.set(raw);
  return out;
}
