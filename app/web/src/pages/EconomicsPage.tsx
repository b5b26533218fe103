import type { Address } from '@solana/kit';
import { useEffect, useState } from 'react';
import { useChain } from '../chain/ChainContext';
import { useLiveQuery } from '../chain/hooks';
import { treasuryTokenAccount, useProtocol, useStaticPdas } from '../chain/protocol';
import { fetchEventsOf, fetchTokenBalance, type Decoded, type TimedEvent } from '../chain/queries';
import { associatedTokenAddress, ensureAssociatedToken } from '../chain/tokens';
import {
  MAX_LOCK_SECS,
  MIN_LOCK_SECS,
  YEAR_SECS,
  auctionPriceAt,
  formatUnits,
  ix,
  lockMultiplier,
  type Auction,
  type Config,
  type Market,
  type Protocol,
  type StakePool,
} from '../client';
import { LineChart, type Point } from '../ui/LineChart';
import { Addr, Notice, QueryState, Section, Stat, TxStatusView } from '../ui/components';
import { amountText, bpsText, durationText, mintLabel } from '../ui/format';
import { useTx } from '../ui/useTx';
import { useWallet } from '../wallet/WalletContext';

/** Cumulative total burned after each Burned event, oldest first. */
export function burnSeries(events: TimedEvent[]): Point[] {
  const burns = events
    .flatMap((e) => (e.event.name === 'Burned' && e.blockTime !== null ? [{ t: Number(e.blockTime), slot: e.slot, v: e.event.data.totalBurned }] : []))
    .sort((a, b) => (a.slot < b.slot ? -1 : a.slot > b.slot ? 1 : Number(a.v - b.v)));
  return burns.map((b) => ({ t: b.t, v: Number(b.v) }));
}

/**
 * Staking APR from recent reward deposits (buys' stakers share and deposit_rewards): rewards
 * per unit of weight over the window, annualised, times a lock's multiplier.
 */
export function stakingApr(events: TimedEvent[], pool: StakePool, nowSecs: number): { base: number; windowSecs: number; rewards: bigint } | null {
  const rewards = events.flatMap((e) => {
    if (e.blockTime === null) return [];
    if (e.event.name === 'RevenueDistributed') return [{ t: Number(e.blockTime), amount: e.event.data.toStakers }];
    if (e.event.name === 'RewardsDeposited' && !e.event.data.toTreasury) return [{ t: Number(e.blockTime), amount: e.event.data.amount }];
    return [];
  });
  const starts = events.flatMap((e) => (e.blockTime !== null && e.event.name === 'Staked' ? [Number(e.blockTime)] : []));
  if (pool.totalWeight === 0n || rewards.length === 0) return null;
  const earliest = Math.min(...rewards.map((r) => r.t), ...starts);
  const windowSecs = Math.max(60, nowSecs - Math.max(earliest, nowSecs - 30 * 86_400));
  const total = rewards.reduce((s, r) => s + r.amount, 0n);
  const base = (Number(total) / Number(pool.totalWeight)) * (YEAR_SECS / windowSecs);
  return { base, windowSecs, rewards: total };
}

export default function EconomicsPage() {
  const { connection, config: app } = useChain();
  const rpc = connection.rpc;
  const { config, stakePool, markets, auctions, protocol } = useProtocol();
  const pdas = useStaticPdas();
  const burnHistory = useLiveQuery('burn-history', pdas ? () => fetchEventsOf(rpc, pdas.config, 200) : null, { accounts: [pdas?.config] });
  const poolHistory = useLiveQuery('pool-history', pdas ? () => fetchEventsOf(rpc, pdas.stakePool, 200) : null, { accounts: [pdas?.stakePool] });
  const c = config.data?.data;
  const pool = stakePool.data?.data;
  const decimals = pool?.decimals ?? 0;
  const pmint = c?.protocolMint ?? null;
  const fmtP = (v: bigint) => amountText(v, decimals, pmint, app.mintLabels);
  const series = burnSeries(burnHistory.data ?? []);

  return (
    <div className="page" data-testid="page-economics">
      <Section title="Buyback and burn" testId="burn">
        <QueryState loading={config.loading} error={config.error} empty={!c} emptyText="The protocol is not set up on this chain yet: nothing has been burned.">
          {c && (
            <>
              <div className="stats">
                <Stat label="Total burned" value={fmtP(c.totalBurned)} testId="total-burned" />
                <Stat label="Total slashed" value={fmtP(c.totalSlashed)} />
                <Stat label="Protocol fee" value={bpsText(c.params.protocolFeeBps)} />
                <Stat label="Revenue split" value={`${bpsText(c.params.burnBps)} burned · ${bpsText(c.params.stakersBps)} stakers · ${bpsText(c.params.treasuryBps)} treasury`} />
              </div>
              <LineChart
                points={
                  // Events reach the RPC's history a little after confirmation: the config's
                  // live total is always the last point.
                  series.length || c.totalBurned > 0n ? [...series, { t: Math.floor(Date.now() / 1000), v: Number(c.totalBurned) }] : []
                }
                label="Total burned over time"
                testId="burn-chart"
                formatValue={(v) => formatUnits(BigInt(Math.round(v)), decimals, 2)}
              />
              {burnHistory.error && <Notice kind="error">Cannot read the burn history: {burnHistory.error}</Notice>}
            </>
          )}
        </QueryState>
      </Section>
      <Section title="Fee vaults and auctions" testId="auctions">
        <QueryState loading={auctions.loading} error={auctions.error} empty={(auctions.data ?? []).length === 0} emptyText="No auctions on this chain yet: no fee vault to sell.">
          {c && pool && protocol && (
            <div className="auctions">
              {(auctions.data ?? []).map((a) => (
                <AuctionCard key={a.address} auction={a} config={c} pool={pool} protocol={protocol} markets={markets.data ?? []} />
              ))}
            </div>
          )}
        </QueryState>
        <SweepList markets={markets.data ?? []} />
      </Section>
      <Section title="Staking" testId="staking">
        <QueryState loading={stakePool.loading} error={stakePool.error} empty={!pool} emptyText="No staking pool on this chain yet.">
          {pool && <StakingStats pool={pool} history={poolHistory.data ?? []} fmt={fmtP} />}
        </QueryState>
      </Section>
    </div>
  );
}

function StakingStats({ pool, history, fmt }: { pool: StakePool; history: TimedEvent[]; fmt: (v: bigint) => string }) {
  const { now } = useChain();
  const apr = stakingApr(history, pool, Number(now()));
  const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%`;
  return (
    <div className="stats">
      <Stat label="Total staked" value={fmt(pool.totalStaked)} testId="total-staked" />
      <Stat label="Total weight" value={pool.totalWeight.toString()} />
      <Stat label="Rewards deposited" value={fmt(pool.totalRewardsDeposited)} />
      <Stat label="Rewards claimed" value={fmt(pool.totalRewardsClaimed)} />
      <Stat
        label="Staking APR"
        testId="staking-apr"
        value={
          apr
            ? `${pct(apr.base * lockMultiplier(MIN_LOCK_SECS))} (14-day lock) – ${pct(apr.base * lockMultiplier(MAX_LOCK_SECS))} (1-year lock), from ${fmt(apr.rewards)} paid over the last ${durationText(apr.windowSecs)}`
            : 'No rewards paid to stakers yet'
        }
      />
    </div>
  );
}

function AuctionCard({
  auction,
  config,
  pool,
  protocol,
  markets,
}: {
  auction: Decoded<Auction>;
  config: Config;
  pool: StakePool;
  protocol: Protocol;
  markets: Decoded<Market>[];
}) {
  const { connection, config: app, now } = useChain();
  const { owner } = useWallet();
  const rpc = connection.rpc;
  const { status, run, busy } = useTx();
  const a = auction.data;
  const isProtocolMint = a.paymentMint === protocol.mint;
  const vault = useLiveQuery(`vault:${a.feeVault}`, () => fetchTokenBalance(rpc, a.feeVault), { accounts: [a.feeVault] });
  const market = markets.find((m) => m.data.paymentMint === a.paymentMint);
  const payDecimals = isProtocolMint ? pool.decimals : (market?.data.paymentDecimals ?? null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((x) => x + 1), 1000);
    return () => clearInterval(t);
  }, []);
  void tick;
  const price = auctionPriceAt(a, now());
  const balance = vault.data ?? null;
  const myProtocol = useLiveQuery(owner ? `bal:${owner}:${protocol.mint}` : 'none', owner ? async () => fetchTokenBalance(rpc, await associatedTokenAddress(owner, protocol.mint, protocol.tokenProgram)) : null);
  const fmtPay = (v: bigint) => (payDecimals === null ? `${v} base units of ${mintLabel(a.paymentMint, app.mintLabels)}` : amountText(v, payDecimals, a.paymentMint, app.mintLabels));
  const fmtP = (v: bigint) => amountText(v, pool.decimals, protocol.mint, app.mintLabels);

  const buy = () =>
    run('Buy', async (buyer: Address) => {
      if (!balance) throw new Error('The fee vault is empty: nothing to buy');
      const current = auctionPriceAt(a, now());
      const payToken = await ensureAssociatedToken(rpc, buyer, buyer, a.paymentMint, a.paymentTokenProgram);
      const protocolToken = await associatedTokenAddress(buyer, protocol.mint, protocol.tokenProgram);
      const treasury = await treasuryTokenAccount(rpc, config.params.treasury, protocol.mint);
      // The price only falls, so today's price bounds what the buy pays; the vault only grows.
      return [
        ...payToken.create,
        await ix.buy(buyer, { paymentMint: a.paymentMint, paymentTokenProgram: a.paymentTokenProgram }, payToken.address, protocolToken, treasury, protocol, current, balance),
      ];
    });
  const distribute = () =>
    run('Distribute', async () => {
      const treasury = await treasuryTokenAccount(rpc, config.params.treasury, protocol.mint);
      return [await ix.distributeFees(treasury, protocol)];
    });

  return (
    <div className="auction" data-testid="auction" data-mint={a.paymentMint}>
      <h3>
        {mintLabel(a.paymentMint, app.mintLabels)} fee vault <Addr value={a.feeVault} />
      </h3>
      <div className="stats">
        <Stat label="In the vault" value={balance === null ? (vault.loading ? '…' : 'no vault') : fmtPay(balance)} testId="vault-balance" />
        {!isProtocolMint && <Stat label="Price now (falls every second)" value={fmtP(price)} testId="auction-price" />}
        {!isProtocolMint && <Stat label="Epoch" value={`${a.epoch} (${durationText(a.params.epochPeriodSecs)} to the floor of ${fmtP(a.params.floorPrice)})`} />}
        <Stat label="Sold so far" value={`${fmtPay(a.totalSold)} for ${fmtP(a.totalPaid)}`} />
        {owner && !isProtocolMint && <Stat label="You hold" value={myProtocol.data === undefined ? '…' : myProtocol.data === null ? 'none' : fmtP(myProtocol.data)} />}
      </div>
      {isProtocolMint ? (
        <button onClick={() => void distribute()} disabled={busy || !owner || !balance} data-testid="distribute-submit">
          Split protocol-token fees (burn / stakers / treasury)
        </button>
      ) : (
        <button onClick={() => void buy()} disabled={busy || !owner} data-testid="buy-submit">
          Buy the vault for {fmtP(price)}
        </button>
      )}
      <TxStatusView status={status} />
    </div>
  );
}

/**
 * The markets whose pools hold protocol fees, each with a button that sweeps them to the
 * auction. The transaction status belongs to the list, not the row: a confirmed sweep empties
 * the row's pool and so removes the row, and its outcome must still be shown.
 */
function SweepList({ markets }: { markets: Decoded<Market>[] }) {
  const { config: app } = useChain();
  const { status, run, busy } = useTx();
  const withFees = markets.filter((m) => m.data.protocolFeesAccrued > 0n);
  return (
    <div className="sweeps" data-testid="sweeps">
      {withFees.length === 0 && <p className="muted">No protocol fees waiting in market pools.</p>}
      {withFees.map((market) => {
        const m = market.data;
        return (
          <div className="sweep" key={market.address}>
            Market #{m.marketId.toString()} holds {amountText(m.protocolFeesAccrued, m.paymentDecimals, m.paymentMint, app.mintLabels)} of protocol fees{' '}
            <button
              onClick={() => void run(`Sweep market #${m.marketId} fees`, async () => [await ix.sweepFees(market.address, m.paymentMint, m.paymentTokenProgram)])}
              disabled={busy}
              data-testid="sweep-submit"
            >
              Move them to the auction
            </button>
          </div>
        );
      })}
      <TxStatusView status={status} />
    </div>
  );
}
