import type { Address } from '@solana/kit';
import { formatUnits } from '../client';

export const DEFAULT_ADDRESS = '11111111111111111111111111111111' as Address;

export function shortAddress(a: string): string {
  return a.length > 12 ? `${a.slice(0, 4)}…${a.slice(-4)}` : a;
}

export function mintLabel(mint: string, labels: Record<string, string>): string {
  return labels[mint] ?? `tokens of ${shortAddress(mint)}`;
}

export function amountText(value: bigint, decimals: number, mint: string | null, labels: Record<string, string>): string {
  const n = formatUnits(value, decimals, Math.min(decimals, 6));
  return mint ? `${n} ${mintLabel(mint, labels)}` : n;
}

/** "2 h 5 min", "45 s", "3 d 4 h". */
export function durationText(secs: number | bigint): string {
  let s = Math.max(0, Math.floor(Number(secs)));
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d) return `${d} d${h ? ` ${h} h` : ''}`;
  if (h) return `${h} h${m ? ` ${m} min` : ''}`;
  if (m) return `${m} min${s ? ` ${s} s` : ''}`;
  return `${s} s`;
}

export function timeText(unixSecs: bigint | number | null): string {
  if (unixSecs === null || Number(unixSecs) === 0) return '—';
  return new Date(Number(unixSecs) * 1000).toLocaleString();
}

export function bpsText(bps: number): string {
  return `${(bps / 100).toFixed(bps % 100 === 0 ? 0 : 2)}%`;
}
