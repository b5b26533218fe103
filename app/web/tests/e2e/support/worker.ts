/**
 * Runs the provider daemon (`cinder worker --config FILE`) for a test: writes its TOML config
 * (keypair, markets, results server), starts it, waits until its results server answers, and
 * stops it with SIGINT.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cinderBinary, freePortPair, LOGS, REPO_ROOT } from './localnet';

export type Worker = { endpoint: string; dataDir: string; log: string; stop: () => Promise<void>; output: () => string };

export type WorkerOptions = {
  name: string;
  rpcUrl: string;
  wsUrl: string;
  /** 64-byte secret key of the provider (written to a keypair file the worker reads). */
  secretKey: Uint8Array;
  markets: number[];
  /** Extra TOML lines (e.g. process_allow). */
  extraToml?: string;
  port?: number;
};

const toml = (s: string) => JSON.stringify(s);

export async function startWorker(opts: WorkerOptions): Promise<Worker> {
  const bin = cinderBinary();
  const dir = mkdtempSync(join(tmpdir(), `cinder-worker-${opts.name}-`));
  const keypair = join(dir, 'provider.json');
  writeFileSync(keypair, JSON.stringify([...opts.secretKey]));
  const port = opts.port ?? (await freePortPair());
  const endpoint = `http://127.0.0.1:${port}`;
  const config = join(dir, 'worker.toml');
  writeFileSync(
    config,
    [
      `rpc_url = ${toml(opts.rpcUrl)}`,
      `ws_url = ${toml(opts.wsUrl)}`,
      `keypair = ${toml(keypair)}`,
      `data_dir = ${toml(join(dir, 'data'))}`,
      `markets = [${opts.markets.join(', ')}]`,
      `endpoint = ${toml(endpoint)}`,
      `listen = ${toml(`127.0.0.1:${port}`)}`,
      // The test's spec and input server is on this machine (refused by default).
      'fetch_internal_networks = ["127.0.0.0/8"]',
      opts.extraToml ?? '',
    ].join('\n') + '\n',
  );
  mkdirSync(LOGS, { recursive: true });
  const logPath = join(LOGS, `worker-${opts.name}.log`);
  const log = createWriteStream(logPath);
  const child = spawn(bin, ['worker', '--config', config], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const onData = (b: Buffer) => {
    output = (output + b.toString()).slice(-50_000);
    log.write(b);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
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
      const t = setTimeout(() => child.kill('SIGKILL'), 40_000);
      await exit;
      clearTimeout(t);
    }
    log.end();
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`cinder worker exited (${exited}) at start:\n${output.slice(-4000)}`);
    }
    try {
      const res = await fetch(`${endpoint}/healthz`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`cinder worker's results server did not answer in time:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { endpoint, dataDir: dir, log: logPath, stop, output: () => output };
}
