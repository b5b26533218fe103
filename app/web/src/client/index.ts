/** The cinder program's typed client (kit 7): PDAs, codecs, instructions, events, errors, math. */
export * from './program';
export * from './pdas';
export * from './codecs';
export * from './types';
export * from './accounts';
export * from './instructions';
export * as ix from './ix';
export type { JobKeys, Protocol, Payees, PaymentSide } from './ix';
export * from './events';
export * from './errors';
export * from './math';
export { PROGRAM_ERRORS } from './generated/errors';
export { ACCOUNT_DISCRIMINATORS, EVENT_DISCRIMINATORS, INSTRUCTION_DISCRIMINATORS } from './generated/discriminators';
