import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SolanaError, SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM } from '@solana/kit';
import { describe, expect, it } from 'vitest';
import { anchorDiscriminator, generate, idlErrors, readIdl } from '../../scripts/gen-client.mjs';
import {
  PROGRAM_ERRORS,
  TOKEN_PROGRAM_ADDRESS,
  explainError,
  explainTransactionError,
  programError,
} from '../../src/client';

const here = __dirname;
const vectors = JSON.parse(readFileSync(join(here, '../vectors/vectors.json'), 'utf8'));

describe('error table', () => {
  it('is generated from the current idl/cinder.json (every variant, in order)', () => {
    expect(PROGRAM_ERRORS.map((e) => ({ ...e }))).toEqual(idlErrors(readIdl()));
    const files = generate();
    expect(readFileSync(join(here, '../../src/client/generated/errors.ts'), 'utf8')).toBe(files['errors.ts']);
    expect(readFileSync(join(here, '../../src/client/generated/discriminators.ts'), 'utf8')).toBe(files['discriminators.ts']);
  });

  it('matches the Rust enum itself (codes, names, #[msg] texts of every variant, from the vectors)', () => {
    // The vectors pin every variant against the enum (code = 6000 + position, name, Display
    // text). A variant inserted in the middle renumbers the codes after it and fails here; so
    // does one the vectors do not list (the Rust builders' every_error! list must name it too),
    // or one missing from the generated table.
    const pinned = vectors.errors.length;
    expect(pinned).toBeGreaterThan(0);
    expect(vectors.errors).toEqual(PROGRAM_ERRORS.slice(0, pinned).map((e) => ({ ...e })));
    const unpinned = PROGRAM_ERRORS.slice(pinned).map((e) => e.name);
    expect(
      unpinned,
      `add ${unpinned.join(', ')} to every_error! in crates/cinder-client/examples/vectors.rs, then regenerate the vectors (bash scripts/test-web.sh)`,
    ).toEqual([]);
  });

  it("takes Anchor's discriminators from the IDL, which follow Anchor's rule for every name", () => {
    const idl = readIdl();
    for (const [section, namespace] of [['instructions', 'global'], ['accounts', 'account'], ['events', 'event']] as const) {
      for (const entry of idl[section]) {
        expect(entry.discriminator, `${section} ${entry.name}`).toEqual(anchorDiscriminator(`${namespace}:${entry.name}`));
      }
    }
    expect(idl.errors.map((e: { code: number }) => e.code)).toEqual(idl.errors.map((_: unknown, i: number) => 6000 + i));
  });
});

describe('explaining failures in plain words', () => {
  it('gives every program error its message, from a simulation or a status error', () => {
    for (const e of PROGRAM_ERRORS) {
      const got = explainTransactionError({ InstructionError: [1, { Custom: e.code }] });
      expect(got).toMatchObject({ message: e.message, name: e.name, code: e.code });
      expect(programError(e.code)?.name).toBe(e.name);
    }
    expect(programError(5999)).toBeUndefined();
    expect(programError(6000 + PROGRAM_ERRORS.length)).toBeUndefined();
  });

  it('tells a token-program failure from a program error with the same number', () => {
    const logs = [
      'Program 4QxkF2xJdxnV9mXCKYg5jP5Xi1GANdySXa8P8gSig7S8 invoke [1]',
      `Program ${TOKEN_PROGRAM_ADDRESS} invoke [2]`,
      'Program log: Error: insufficient funds',
      `Program ${TOKEN_PROGRAM_ADDRESS} failed: custom program error: 0x1`,
      'Program 4QxkF2xJdxnV9mXCKYg5jP5Xi1GANdySXa8P8gSig7S8 failed: custom program error: 0x1',
    ];
    // The last "failed" line is the outer program; the token program is where it started.
    const got = explainTransactionError({ InstructionError: [0, { Custom: 1 }] }, logs.slice(0, 4));
    expect(got.message).toBe('Not enough tokens in the paying token account');
  });

  it('explains transaction-level errors and Anchor constraint errors', () => {
    expect(explainTransactionError('InsufficientFundsForFee').message).toMatch(/SOL to pay the transaction fee/);
    expect(explainTransactionError('AccountNotFound').message).toMatch(/fund it with SOL/);
    expect(explainTransactionError({ InstructionError: [0, { Custom: 3012 }] }).message).toMatch(/does not exist yet/);
    expect(explainTransactionError({ InstructionError: [0, 'MissingRequiredSignature'] }).message).toMatch(/signature/);
  });

  it('reads kit errors, wallet rejections, unreachable RPCs and raw log text', () => {
    const custom = new SolanaError(SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM, { code: 6023, index: 0 });
    expect(explainError(custom).name).toBe('PriceBelowMarketMinimum');
    expect(explainError(new Error('User rejected the request.')).name).toBe('UserRejected');
    expect(explainError(new TypeError('Failed to fetch')).name).toBe('Unreachable');
    expect(explainError(new Error('... custom program error: 0x1770')).name).toBe('NotAdmin');
    expect(explainError(new Error('Error Code: JobNotOpen. Error Number: 6026. Error Message: ...')).name).toBe('JobNotOpen');
  });
});
