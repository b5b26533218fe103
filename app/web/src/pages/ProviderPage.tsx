import type { Address } from '@solana/kit';
import { useEffect, useState } from 'react';
import { useChain } from '../chain/ChainContext';
import { useLiveQuery } from '../chain/hooks';
import { useProtocol } from '../chain/protocol';
import { fetchEventsOf, fetchJobsOfProvider, fetchProvider, fetchStakePosition, fetchTokenBalance, type Decoded } from '../chain/queries';
import { associatedTokenAddress, ensureAssociatedToken } from '../chain/tokens';
import {
  DAY_SECS,
  ProviderStatus,
  SLASH_REASONS,
  findProviderPda,
  findStakePda,
  fromHex,
  gpuModelText,
  ix,
  jobStateName,
  lockMultiplier,
  parseUnits,
  pendingRewards,
  providerEndpoint,
  sha256,
  toFixedAscii,
  weightFor,
  type Market,
  type Protocol,
  type Provider,
  type StakePool,
  type StakePosition,
} from '../client';
import { Addr, Notice, QueryState, Section, Stat, TxStatusView } from '../ui/components';
import { amountText, durationText, timeText } from '../ui/format';
import { useTx } from '../ui/useTx';
import { useWallet } from '../wallet/WalletContext';

const LOCK_CHOICES_DAYS = [14, 30, 90, 180, 365];

export default function ProviderPage() {
  const { owner } = useWallet();
  const { config, stakePool, markets, protocol } = useProtocol();
  return (
    <div className="page" data-testid="page-provider">
      {!owner && <Notice>Connect a wallet to stake, register as a provider and see your earnings.</Notice>}
      <QueryState
        loading={config.loading || stakePool.loading}
        error={config.error ?? stakePool.error}
        empty={!config.data || !stakePool.data}
        emptyText="The protocol is not set up on this chain yet (no config or staking pool): nothing to stake into."
      >
        {owner && stakePool.data && protocol && config.data && (
          <ProviderView
            owner={owner}
            pool={stakePool.data.data}
            protocol={protocol}
            minLock={config.data.data.params.minLockSecs}
            maxLock={config.data.data.params.maxLockSecs}
            markets={markets.data ?? []}
          />
        )}
      </QueryState>
    </div>
  );
}

function ProviderView({
  owner,
  pool,
  protocol,
  minLock,
  maxLock,
  markets,
}: {
  owner: Address;
  pool: StakePool;
  protocol: Protocol;
  minLock: number;
  maxLock: number;
  markets: Decoded<Market>[];
}) {
  const { connection, config } = useChain();
  const rpc = connection.rpc;
  const [pdas, setPdas] = useState<{ stake: Address; provider: Address } | null>(null);
  useEffect(() => {
    let live = true;
    void Promise.all([findStakePda(owner), findProviderPda(owner)]).then(([stake, provider]) => live && setPdas({ stake, provider }));
    return () => {
      live = false;
    };
  }, [owner]);
  const position = useLiveQuery(`position:${owner}`, () => fetchStakePosition(rpc, owner), { accounts: [pdas?.stake] });
  const provider = useLiveQuery(`provider:${owner}`, () => fetchProvider(rpc, owner), { accounts: [pdas?.provider] });
  const balance = useLiveQuery(`balance:${owner}:${protocol.mint}`, async () =>
    fetchTokenBalance(rpc, await associatedTokenAddress(owner, protocol.mint, protocol.tokenProgram)),
  );
  const fmt = (v: bigint) => amountText(v, pool.decimals, protocol.mint, config.mintLabels);
  // One transaction status for the section: a confirmed registration replaces the form with
  // the provider's details, and its outcome must stay on screen.
  const providerTx = useTx();

  return (
    <>
      <Section title="Stake" testId="stake">
        <div className="stats">
          <Stat label="Wallet balance" value={balance.data === undefined ? '…' : balance.data === null ? 'no account' : fmt(balance.data)} testId="stake-balance" />
          <Stat label="Staked" value={position.data ? fmt(position.data.data.amount) : fmt(0n)} testId="stake-amount" />
          <Stat label="Weight" value={position.data ? position.data.data.weight.toString() : '0'} testId="stake-weight" />
          <Stat label="Lock" value={position.data ? durationText(position.data.data.lockSecs) : '—'} />
          <Stat label="Unbonding" value={position.data ? fmt(position.data.data.unbonding) : fmt(0n)} testId="stake-unbonding" />
          <Stat
            label="Rewards to claim"
            value={position.data ? fmt(pendingRewards(position.data.data, pool)) : fmt(0n)}
            testId="stake-rewards"
          />
        </div>
        <StakeForm owner={owner} pool={pool} protocol={protocol} minLock={minLock} maxLock={maxLock} position={position.data?.data ?? null} />
        {position.data && <PositionActions owner={owner} pool={pool} protocol={protocol} position={position.data.data} />}
      </Section>
      <Section title="Provider" testId="provider">
        {provider.error && !provider.data && <Notice kind="error">Cannot read the chain: {provider.error}</Notice>}
        {provider.data ? (
          <ProviderDetails owner={owner} provider={provider.data.data} fmtStake={fmt} tx={providerTx} />
        ) : position.data ? (
          <RegisterForm owner={owner} markets={markets} tx={providerTx} />
        ) : (
          <Notice>Stake protocol tokens first: a provider is bound to its stake position.</Notice>
        )}
        <TxStatusView status={providerTx.status} />
      </Section>
      <Earnings owner={owner} pool={pool} protocol={protocol} pdas={pdas} />
    </>
  );
}

function StakeForm({
  owner,
  pool,
  protocol,
  minLock,
  maxLock,
  position,
}: {
  owner: Address;
  pool: StakePool;
  protocol: Protocol;
  minLock: number;
  maxLock: number;
  position: StakePosition | null;
}) {
  const { status, run, busy } = useTx();
  const [amount, setAmount] = useState('');
  const choices = LOCK_CHOICES_DAYS.map((d) => d * DAY_SECS).filter((s) => s >= minLock && s <= maxLock);
  if (!choices.includes(minLock)) choices.unshift(minLock);
  if (!choices.includes(maxLock)) choices.push(maxLock);
  const current = position?.lockSecs ?? 0;
  const [lock, setLock] = useState(() => Math.max(current, choices[0]));
  let units: bigint | null = null;
  try {
    units = amount ? parseUnits(amount, pool.decimals) : null;
  } catch {
    units = null;
  }
  const effectiveLock = Math.max(lock, current);
  const fmt = (v: bigint) => amountText(v, pool.decimals, protocol.mint, {});
  const newWeight = units !== null ? weightFor((position?.amount ?? 0n) + units, effectiveLock) : null;

  const stake = () =>
    run('Stake', async (o) => {
      if (units === null || units <= 0n) throw new Error(`Enter an amount with at most ${pool.decimals} decimals`);
      const token = await associatedTokenAddress(o, protocol.mint, protocol.tokenProgram);
      return [await ix.stake(o, token, protocol, units, lock)];
    });

  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault();
        void stake();
      }}
    >
      <label>
        Amount to stake
        <input data-testid="stake-input" value={amount} onChange={(e) => setAmount(e.target.value)} placeholder="e.g. 100" />
      </label>
      <fieldset className="locks" data-testid="stake-locks">
        <legend>Lock (longer locks weigh more: weight = amount × (1 + 3 × lock / 365 days))</legend>
        {choices.map((s) => (
          <label key={s} className={`lock ${s < current ? 'disabled' : ''}`}>
            <input type="radio" name="lock" value={s} checked={lock === s} disabled={s < current} onChange={() => setLock(s)} data-testid={`lock-${Math.round(s / DAY_SECS)}`} />
            {durationText(s)} · ×{lockMultiplier(s).toFixed(3)}
            {units !== null && units > 0n && <small> → weight {weightFor(units, s).toString()}</small>}
          </label>
        ))}
      </fieldset>
      {current > 0 && <small>Your position is locked for {durationText(current)}; a lock can only grow.</small>}
      <p data-testid="stake-preview">
        {newWeight !== null ? `After staking: ${fmt((position?.amount ?? 0n) + (units ?? 0n))} at weight ${newWeight.toString()}` : 'Enter an amount to see the weight.'}
      </p>
      <button type="submit" disabled={busy || !owner} data-testid="stake-submit">
        Stake
      </button>
      <TxStatusView status={status} />
    </form>
  );
}

function PositionActions({ owner, pool, protocol, position }: { owner: Address; pool: StakePool; protocol: Protocol; position: StakePosition }) {
  const { connection, now } = useChain();
  const unstakeTx = useTx();
  const moveTx = useTx();
  const claimTx = useTx();
  const [amount, setAmount] = useState('');
  const pending = pendingRewards(position, pool);
  const unlocked = position.unbonding > 0n && now() >= position.unlockAt;

  const unstake = () =>
    unstakeTx.run('Unstake', async (o) => {
      const units = parseUnits(amount || '0', pool.decimals);
      if (units <= 0n) throw new Error('Enter the amount to unstake');
      return [await ix.requestUnstake(o, units)];
    });
  const restake = () => moveTx.run('Restake', async (o) => [await ix.restake(o)]);
  const withdraw = () =>
    moveTx.run('Withdraw', async (o) => {
      const t = await ensureAssociatedToken(connection.rpc, o, o, protocol.mint, protocol.tokenProgram);
      return [...t.create, await ix.withdrawStake(o, t.address, protocol)];
    });
  const claim = () =>
    claimTx.run('Claim rewards', async (o) => {
      const t = await ensureAssociatedToken(connection.rpc, o, o, protocol.mint, protocol.tokenProgram);
      return [...t.create, await ix.claimRewards(o, t.address, protocol)];
    });

  return (
    <div className="actions-grid">
      <div>
        <span className="row">
          <input value={amount} onChange={(e) => setAmount(e.target.value)} placeholder="amount" data-testid="unstake-input" />
          <button onClick={() => void unstake()} disabled={unstakeTx.busy || position.amount === 0n} data-testid="unstake-submit">
            Unstake
          </button>
        </span>
        <small>Unbonding stake earns nothing and unlocks after your lock; it stays slashable until withdrawn.</small>
        <TxStatusView status={unstakeTx.status} />
      </div>
      <div>
        {position.unbonding > 0n && (
          <>
            <p>
              {amountText(position.unbonding, pool.decimals, null, {})} unbonding, unlocks {timeText(position.unlockAt)}
            </p>
            <button onClick={() => void restake()} disabled={moveTx.busy} data-testid="restake-submit">
              Restake
            </button>{' '}
            <button onClick={() => void withdraw()} disabled={moveTx.busy || !unlocked} data-testid="withdraw-submit" title={unlocked ? '' : 'still locked'}>
              Withdraw
            </button>
          </>
        )}
        <TxStatusView status={moveTx.status} />
      </div>
      <div>
        <button onClick={() => void claim()} disabled={claimTx.busy || !owner} data-testid="claim-submit">
          Claim {amountText(pending, pool.decimals, null, {})} rewards
        </button>
        <TxStatusView status={claimTx.status} />
      </div>
    </div>
  );
}

type Tx = ReturnType<typeof useTx>;

function RegisterForm({ owner, markets, tx }: { owner: Address; markets: Decoded<Market>[]; tx: Tx }) {
  const { run, busy } = tx;
  const models = [...new Set(markets.map((m) => gpuModelText(m.data.params.gpuModel)))];
  const [model, setModel] = useState(models[0] ?? '');
  const [vram, setVram] = useState('80');
  const [count, setCount] = useState('1');
  const [inventory, setInventory] = useState('');
  const [endpoint, setEndpoint] = useState('');
  const register = () =>
    run('Register provider', async (o) => {
      const hash = inventory.trim()
        ? /^[0-9a-f]{64}$/i.test(inventory.trim())
          ? fromHex(inventory.trim())
          : await sha256(new TextEncoder().encode(inventory.trim()))
        : new Uint8Array(32);
      return [
        await ix.registerProvider(o, {
          gpuModel: toFixedAscii(model, 32),
          vramGib: Number(vram),
          gpuCount: Number(count),
          inventoryHash: hash,
          endpoint: endpoint.trim(),
        }),
      ];
    });
  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault();
        void register();
      }}
    >
      <label>
        GPU model (as the market names it)
        <input list="gpu-models" value={model} onChange={(e) => setModel(e.target.value)} data-testid="reg-model" required />
        <datalist id="gpu-models">
          {models.map((m) => (
            <option key={m} value={m} />
          ))}
        </datalist>
      </label>
      <label>
        VRAM per GPU (GiB)
        <input value={vram} onChange={(e) => setVram(e.target.value)} inputMode="numeric" data-testid="reg-vram" />
      </label>
      <label>
        GPU count
        <input value={count} onChange={(e) => setCount(e.target.value)} inputMode="numeric" data-testid="reg-count" />
      </label>
      <label>
        GPU inventory (its sha256 in hex, or the inventory text to hash)
        <input value={inventory} onChange={(e) => setInventory(e.target.value)} data-testid="reg-inventory" />
      </label>
      <label>
        Result endpoint
        <input value={endpoint} onChange={(e) => setEndpoint(e.target.value)} placeholder="https://gpu1.example.com:8443" data-testid="reg-endpoint" required />
      </label>
      <button type="submit" disabled={busy || !owner} data-testid="reg-submit">
        Register
      </button>
    </form>
  );
}

function ProviderDetails({ owner, provider, fmtStake, tx }: { owner: Address; provider: Provider; fmtStake: (v: bigint) => string; tx: Tx }) {
  const { run, busy } = tx;
  const active = provider.status === ProviderStatus.Active;
  const toggle = () =>
    run(active ? 'Pause claiming' : 'Resume claiming', async (o) => [
      await ix.updateProvider(
        o,
        {
          gpuModel: provider.gpuModel,
          vramGib: provider.vramGib,
          gpuCount: provider.gpuCount,
          inventoryHash: provider.inventoryHash,
          endpoint: providerEndpoint(provider),
        },
        !active,
      ),
    ]);
  return (
    <div>
      <div className="stats">
        <Stat label="Status" value={active ? 'Active' : 'Inactive'} testId="provider-status" />
        <Stat label="GPUs" value={`${provider.gpuCount} × ${gpuModelText(provider.gpuModel)} (${provider.vramGib} GiB)`} testId="provider-gpus" />
        <Stat label="Endpoint" value={providerEndpoint(provider)} />
        <Stat label="Running jobs" value={provider.activeJobs} />
        <Stat label="Jobs done / quit / expired" value={`${provider.jobsDone} / ${provider.jobsQuit} / ${provider.jobsExpired}`} testId="provider-counters" />
        <Stat label="Stake locked by jobs" value={fmtStake(provider.lockedStake)} />
        <Stat label="Registered" value={timeText(provider.registeredAt)} />
      </div>
      <button onClick={() => void toggle()} disabled={busy || !owner} data-testid="provider-toggle">
        {active ? 'Stop claiming new jobs' : 'Resume claiming'}
      </button>
    </div>
  );
}

function Earnings({
  owner,
  pool,
  protocol,
  pdas,
}: {
  owner: Address;
  pool: StakePool;
  protocol: Protocol;
  pdas: { stake: Address; provider: Address } | null;
}) {
  const { connection, config } = useChain();
  const rpc = connection.rpc;
  const { markets } = useProtocol();
  const mints = [...new Set((markets.data ?? []).map((m) => m.data.paymentMint as string))];
  const payMarket = mints.length === 1 ? markets.data![0].data : null;
  const fmtPay = (v: bigint) => (payMarket ? amountText(v, payMarket.paymentDecimals, payMarket.paymentMint, config.mintLabels) : `${v} base units`);
  const history = useLiveQuery(
    `earnings:${owner}:${pdas?.provider ?? ''}`,
    pdas
      ? async () => {
          const [providerEvents, stakeEvents] = await Promise.all([fetchEventsOf(rpc, pdas.provider, 100), fetchEventsOf(rpc, pdas.stake, 100)]);
          return { providerEvents, stakeEvents };
        }
      : null,
    { accounts: [pdas?.provider, pdas?.stake] },
  );
  const jobs = useLiveQuery(`provider-jobs:${owner}`, () => fetchJobsOfProvider(rpc, owner), { program: true });
  const settled = (history.data?.providerEvents ?? []).flatMap((e) => (e.event.name === 'JobSettled' && e.event.data.provider === owner ? [{ ...e, data: e.event.data }] : []));
  const claims = (history.data?.stakeEvents ?? []).flatMap((e) => (e.event.name === 'RewardsClaimed' && e.event.data.owner === owner ? [{ ...e, data: e.event.data }] : []));
  const slashes = (history.data?.stakeEvents ?? []).flatMap((e) => (e.event.name === 'Slashed' && e.event.data.who === owner ? [{ ...e, data: e.event.data }] : []));
  const marketByAddr = new Map((markets.data ?? []).map((m) => [m.address as string, m.data]));
  // Earnings per payment mint (jobs pay in their market's mint).
  const earningsByJob = settled.reduce((sum, s) => sum + s.data.providerAmount, 0n);
  const rewardsClaimed = claims.reduce((sum, c) => sum + c.data.amount, 0n);

  return (
    <>
      <Section title="Earnings" testId="earnings">
        <div className="stats">
          <Stat label="Jobs settled (recent)" value={settled.length} />
          <Stat label="Paid to you for jobs" value={fmtPay(earningsByJob)} testId="earnings-jobs" />
          <Stat label="Staking rewards claimed" value={amountText(rewardsClaimed, pool.decimals, protocol.mint, config.mintLabels)} testId="earnings-rewards" />
        </div>
        {history.error && <Notice kind="error">Cannot read the history: {history.error}</Notice>}
        {settled.length > 0 && (
          <table className="table">
            <thead>
              <tr>
                <th>Job</th>
                <th>Billed</th>
                <th>Paid to you</th>
                <th>When</th>
              </tr>
            </thead>
            <tbody>
              {settled.map((s) => (
                <tr key={s.signature + s.data.job}>
                  <td>
                    <Addr value={s.data.job} />
                  </td>
                  <td>{s.data.billedSecs} s</td>
                  <td>{fmtPay(s.data.providerAmount)}</td>
                  <td>{timeText(s.blockTime)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Running jobs" testId="running-jobs">
        <QueryState loading={jobs.loading} error={jobs.error} empty={(jobs.data ?? []).length === 0} emptyText="No jobs claimed by you right now.">
          <table className="table">
            <thead>
              <tr>
                <th>Job</th>
                <th>State</th>
                <th>Market</th>
                <th>Deadline</th>
              </tr>
            </thead>
            <tbody>
              {(jobs.data ?? []).map((j) => {
                const m = marketByAddr.get(j.data.market);
                return (
                  <tr key={j.address} data-testid="running-job">
                    <td>
                      <Addr value={j.address} />
                    </td>
                    <td>{jobStateName(j.data.state)}</td>
                    <td>{m ? `#${m.marketId} ${gpuModelText(m.params.gpuModel)}` : <Addr value={j.data.market} />}</td>
                    <td>{timeText(j.data.deadline)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </QueryState>
      </Section>
      <Section title="Slashes" testId="slashes">
        {slashes.length === 0 ? (
          <Notice testId="no-slashes">{history.loading ? 'Reading the history…' : 'Never slashed.'}</Notice>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th>When</th>
                <th>Reason</th>
                <th>Amount</th>
                <th>Burned</th>
                <th>Job</th>
              </tr>
            </thead>
            <tbody>
              {slashes.map((s) => (
                <tr key={s.signature} data-testid="slash-row">
                  <td>{timeText(s.blockTime)}</td>
                  <td>{SLASH_REASONS[s.data.reason] ?? `reason ${s.data.reason}`}</td>
                  <td>{amountText(s.data.amount, pool.decimals, protocol.mint, {})}</td>
                  <td>{amountText(s.data.burned, pool.decimals, null, {})}</td>
                  <td>
                    <Addr value={s.data.job} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}
