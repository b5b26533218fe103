/**
 * What went wrong, in plain words: the program's own error codes (generated from
 * programs/cinder/src/errors.rs), Anchor's framework errors, the token and system programs'
 * errors, transaction-level errors, wallet rejections and network failures.
 */
import { isSolanaError, SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM } from '@solana/kit';
import { PROGRAM_ERRORS } from './generated/errors';
import { CINDER_PROGRAM_ADDRESS, SYSTEM_PROGRAM_ADDRESS, TOKEN_2022_PROGRAM_ADDRESS, TOKEN_PROGRAM_ADDRESS } from './program';

export const PROGRAM_ERROR_OFFSET = 6000;

export type ProgramErrorInfo = (typeof PROGRAM_ERRORS)[number];

export function programError(code: number): ProgramErrorInfo | undefined {
  const e = PROGRAM_ERRORS[code - PROGRAM_ERROR_OFFSET];
  return e && e.code === code ? e : undefined;
}

/** Anchor framework errors a caller can meet, in plain words. */
export const ANCHOR_ERRORS: Record<number, string> = {
  100: 'The program does not know this instruction (the dApp and the deployed program differ)',
  101: 'The program does not know this instruction (the dApp and the deployed program differ)',
  102: 'The instruction arguments could not be read by the program (the dApp and the deployed program differ)',
  2000: 'An account that must be writable was passed read-only',
  2001: 'An account does not belong to the one it should (a has_one check failed)',
  2002: 'A required signature is missing',
  2003: 'An account constraint failed',
  2006: 'An account address does not match the one the program derives for it',
  2012: 'An account address is not the expected one',
  2014: 'A token account holds another mint than expected',
  2015: 'A token account belongs to another wallet than expected',
  3001: 'An account holds no data of the expected kind (it may not exist yet)',
  3002: 'An account is of another kind than expected',
  3003: 'An account could not be read by the program',
  3005: 'Not enough accounts were passed to the program',
  3007: 'An account is owned by another program than expected',
  3008: 'A program account passed is not the expected program',
  3010: 'An account that must sign did not',
  3012: 'An account the program needs does not exist yet',
};

const TOKEN_ERRORS: Record<number, string> = {
  0: 'A token account would fall below its rent-exempt minimum',
  1: 'Not enough tokens in the paying token account',
  2: 'Invalid token mint',
  3: 'The token account holds another mint than the one expected',
  4: 'The token account belongs to another wallet',
  5: 'The token supply is fixed',
  6: 'The token account already exists',
  9: 'The token account is not initialized',
  17: 'The token account is frozen',
  18: 'The mint decimals do not match',
};

const SYSTEM_ERRORS: Record<number, string> = {
  0: 'The account already exists',
  1: 'Not enough SOL in the paying account',
};

const TRANSACTION_ERRORS: Record<string, string> = {
  AccountNotFound: 'The paying wallet does not exist on this chain yet: fund it with SOL first',
  InsufficientFundsForFee: 'The wallet has not enough SOL to pay the transaction fee',
  InsufficientFundsForRent: 'The wallet has not enough SOL to keep an account it creates rent-exempt',
  BlockhashNotFound: 'The transaction expired before the chain saw it; try again',
  AlreadyProcessed: 'This transaction was already processed',
  AccountInUse: 'An account is in use by another transaction; try again',
  ProgramAccountNotFound: 'The cinder program is not deployed on this chain',
  InvalidAccountForFee: 'The fee payer cannot pay fees',
};

const INSTRUCTION_ERRORS: Record<string, string> = {
  InsufficientFunds: 'Not enough funds in an account',
  InvalidAccountData: 'An account holds data the program cannot use',
  AccountAlreadyInitialized: 'The account already exists',
  UninitializedAccount: 'An account the program needs does not exist yet',
  MissingRequiredSignature: 'A required signature is missing',
  IncorrectProgramId: 'An account belongs to another program than expected',
  AccountNotRentExempt: 'An account would not be rent-exempt',
  ProgramFailedToComplete: 'The program ran out of compute or aborted',
  ComputationalBudgetExceeded: 'The transaction ran out of compute units',
  InvalidArgument: 'An argument is invalid',
  Custom: 'The program refused the instruction',
};

/** A failure explained: a one-line message, and the program error name where known. */
export type Explained = {
  message: string;
  /** e.g. "PriceBelowMarketMinimum" or "token:1". */
  name?: string;
  code?: number;
  logs?: readonly string[];
};

/** The program that failed last, from runtime logs ("Program X failed: custom program error: 0x1"). */
function failingProgram(logs: readonly string[] | undefined): string | undefined {
  if (!logs) return undefined;
  for (let i = logs.length - 1; i >= 0; i--) {
    const m = /^Program (\w+) failed/.exec(logs[i]);
    if (m) return m[1];
  }
  return undefined;
}

/** A custom error code of the given program, in plain words. */
export function explainCustom(code: number, program: string | undefined): Explained {
  if (program === TOKEN_PROGRAM_ADDRESS || program === TOKEN_2022_PROGRAM_ADDRESS) {
    return { message: TOKEN_ERRORS[code] ?? `The token program refused (error ${code})`, name: `token:${code}`, code };
  }
  if (program === SYSTEM_PROGRAM_ADDRESS) {
    return { message: SYSTEM_ERRORS[code] ?? `The system program refused (error ${code})`, name: `system:${code}`, code };
  }
  const own = programError(code);
  if (own && (program === undefined || program === CINDER_PROGRAM_ADDRESS)) {
    return { message: own.message, name: own.name, code };
  }
  if (ANCHOR_ERRORS[code] && (program === undefined || program === CINDER_PROGRAM_ADDRESS)) {
    return { message: ANCHOR_ERRORS[code], name: `anchor:${code}`, code };
  }
  return { message: `The program refused the transaction (error ${code})`, code };
}

/**
 * A `TransactionError` as JSON-RPC returns it (simulateTransaction / getSignatureStatuses):
 * `"InsufficientFundsForFee"`, `{ InstructionError: [0, { Custom: 6023 }] }`, ….
 */
export function explainTransactionError(err: unknown, logs?: readonly string[]): Explained {
  if (typeof err === 'string') {
    return { message: TRANSACTION_ERRORS[err] ?? `The transaction failed: ${err}`, name: err, logs };
  }
  if (err && typeof err === 'object') {
    const o = err as Record<string, unknown>;
    const ie = o.InstructionError as [number, unknown] | undefined;
    if (Array.isArray(ie)) {
      const [, inner] = ie;
      if (inner && typeof inner === 'object' && 'Custom' in (inner as object)) {
        const code = Number((inner as { Custom: number | bigint }).Custom);
        return { ...explainCustom(code, failingProgram(logs)), logs };
      }
      if (typeof inner === 'string') {
        return { message: INSTRUCTION_ERRORS[inner] ?? `An instruction failed: ${inner}`, name: inner, logs };
      }
    }
    const [first] = Object.keys(o);
    if (first) return { message: TRANSACTION_ERRORS[first] ?? `The transaction failed: ${first}`, name: first, logs };
  }
  return { message: 'The transaction failed', logs };
}

function fromAnchorLog(logs: readonly string[] | undefined): Explained | undefined {
  for (const line of logs ?? []) {
    const m = /Error Number: (\d+)\./.exec(line);
    if (m) return explainCustom(Number(m[1]), CINDER_PROGRAM_ADDRESS);
  }
  return undefined;
}

/** Any error a send can throw (kit's SolanaError, a wallet's rejection, fetch failures). */
export function explainError(e: unknown): Explained {
  if (isSolanaError(e)) {
    let cur: unknown = e;
    let logs: readonly string[] | undefined;
    for (let depth = 0; cur && depth < 8; depth++) {
      if (isSolanaError(cur)) {
        const ctx = cur.context as Record<string, unknown>;
        if (Array.isArray(ctx.logs)) logs = ctx.logs as string[];
        if (isSolanaError(cur, SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM)) {
          return { ...explainCustom(Number(cur.context.code), failingProgram(logs)), logs };
        }
      }
      cur = (cur as { cause?: unknown }).cause;
    }
    const anchor = fromAnchorLog(logs);
    if (anchor) return { ...anchor, logs };
    return { message: e.message, logs };
  }
  const msg = e instanceof Error ? e.message : String(e);
  if (/reject|denied|declined|cancel/i.test(msg)) return { message: 'You rejected the request in your wallet', name: 'UserRejected' };
  if (/failed to fetch|networkerror|econnrefused|fetch failed|load failed/i.test(msg)) {
    return { message: 'The chain cannot be reached (the RPC endpoint does not answer)', name: 'Unreachable' };
  }
  const hex = /custom program error: 0x([0-9a-f]+)/i.exec(msg);
  if (hex) return explainCustom(parseInt(hex[1], 16), undefined);
  const num = /Error Number: (\d+)/.exec(msg);
  if (num) return explainCustom(Number(num[1]), CINDER_PROGRAM_ADDRESS);
  return { message: msg || 'Something went wrong' };
}
