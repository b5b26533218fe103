/**
 * Starts the real local chain for a test: `cinder localnet` (Agave's test validator
 * in-process, the SBF program in genesis, a faucet, the protocol bootstrapped) on a fresh
 * ledger in a temp dir and a free port; waits for its `ready` line and state file; stops it
 * with SIGINT (SIGKILL if it lingers) and removes the ledger.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '../../../../..');
export const LOGS = join(__dirname, '../../../test-results/logs');

export type LocalnetState = {
  rpc_url: string;
  ws_url: string;
  program_id: string;
  faucet_keypair: string;
  admin_keypair: string;
  mint_authority_keypair: string;
  protocol_mint: string;
  treasury: string;
  payment_mints: { name: string; address: string; decimals: number; token_program: string }[];
  markets: { id: number; address: string; gpu_model: string; payment_mint: string }[];
  [more: string]: unknown;
};

export type Localnet = { state: LocalnetState; ledger: string; log: string; stop: () => Promise<void> };

/** The `cinder` binary: $CINDER_BIN, else the target dir's release or debug build. */
export function cinderBinary(): string {
  const candidates = [
    process.env.CINDER_BIN,
    ...[process.env.CARGO_TARGET_DIR, join(REPO_ROOT, 'target')]
      .filter((d): d is string => !!d)
      .flatMap((d) => [join(d, 'release/cinder'), join(d, 'debug/cinder')]),
  ].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`the cinder binary was not found (looked at ${candidates.join(', ')}); build it first (scripts/test-web.sh does)`);
  }
  return found;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

/** A port P with P and P + 1 free (JSON-RPC and pubsub). */
export async function freePortPair(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await portFree(p)) && (await portFree(p + 1))) return p;
  }
  throw new Error('no free port pair');
}

export type StartOptions = { name: string; extraArgs?: string[]; timeoutMs?: number; env?: Record<string, string> };

export async function startLocalnet(opts: StartOptions): Promise<Localnet> {
  const bin = cinderBinary();
  const ledger = mkdtempSync(join(tmpdir(), `cinder-ledger-${opts.name}-`));
  const stateFile = join(ledger, 'localnet.json');
  const port = await freePortPair();
  mkdirSync(LOGS, { recursive: true });
  const logPath = join(LOGS, `localnet-${opts.name}.log`);
  const log = createWriteStream(logPath);
  const args = ['localnet', '--ledger', ledger, '--reset', '--rpc-port', String(port), '--state-file', stateFile, ...(opts.extraArgs ?? [])];
  log.write(`$ ${bin} ${args.join(' ')}\n`);
  const child: ChildProcess = spawn(bin, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let output = '';
  let ready = false;
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-20_000);
    log.write(text);
    if (/\bready\b/i.test(text)) ready = true;
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let exited: number | null | undefined;
  const exit = new Promise<void>((r) =>
    child.once('exit', (code, signal) => {
      exited = code ?? (signal ? -1 : 0);
      log.write(`\n[exited ${code ?? signal}]\n`);
      r();
    }),
  );

  const stop = async () => {
    if (exited === undefined) {
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exit;
      clearTimeout(t);
    }
    log.end();
    rmSync(ledger, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 240_000);
  while (!(ready && existsSync(stateFile))) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`cinder localnet exited (${exited}) before it was ready:\n${output.slice(-4000)}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`cinder localnet was not ready in time:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  // The state file may be written in more than one step: read it until it parses.
  let state: LocalnetState | undefined;
  for (let i = 0; i < 40 && !state; i++) {
    try {
      state = JSON.parse(readFileSync(stateFile, 'utf8')) as LocalnetState;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  if (!state) {
    await stop();
    throw new Error(`cannot read ${stateFile}`);
  }
  return { state, ledger, log: logPath, stop };
}
