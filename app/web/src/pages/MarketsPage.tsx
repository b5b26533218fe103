import { useChain } from '../chain/ChainContext';
import { useLiveQuery } from '../chain/hooks';
import { useProtocol } from '../chain/protocol';
import { fetchOpenJobs, type Decoded } from '../chain/queries';
import { gpuModelText, jobSpecUri, type Job, type Market } from '../client';
import { Addr, Notice, QueryState, Section } from '../ui/components';
import { amountText, bpsText, durationText, timeText } from '../ui/format';
import { useWallet } from '../wallet/WalletContext';
import { queuePosition } from './JobsPage';

export default function MarketsPage() {
  const { connection, config } = useChain();
  const { owner } = useWallet();
  const { markets, stakePool, config: protocolConfig } = useProtocol();
  const stakeDecimals = stakePool.data?.data.decimals ?? 0;
  const protocolMint = protocolConfig.data?.data.protocolMint ?? null;
  const fmtStake = (v: bigint) => amountText(v, stakeDecimals, protocolMint, config.mintLabels);
  const open = useLiveQuery('open-jobs', () => fetchOpenJobs(connection.rpc), { program: true });
  const list = markets.data ?? [];
  const openJobs = open.data ?? [];
  const openOf = (m: Decoded<Market>) => openJobs.filter((j) => j.data.market === m.address);
  const mine = owner ? openJobs.filter((j) => j.data.client === owner) : [];
  const fmt = (m: Market, v: bigint) => amountText(v, m.paymentDecimals, m.paymentMint, config.mintLabels);
  const marketOf = (j: Decoded<Job>) => list.find((m) => m.address === j.data.market);

  return (
    <div className="page" data-testid="page-markets">
      <Section title="GPU markets" testId="markets">
        <QueryState loading={markets.loading} error={markets.error} empty={list.length === 0} emptyText="No markets on this chain yet.">
          <table className="table" data-testid="markets-table">
            <thead>
              <tr>
                <th>Market</th>
                <th>GPU class</th>
                <th>Min price / s</th>
                <th>Max duration</th>
                <th>Provider stake</th>
                <th>Verification</th>
                <th>Challenge window</th>
                <th>Open jobs</th>
              </tr>
            </thead>
            <tbody>
              {list.map((m) => {
                const p = m.data.params;
                return (
                  <tr key={m.address} data-testid="market-row" data-market-id={m.data.marketId.toString()}>
                    <td>
                      #{m.data.marketId.toString()} {m.data.paused ? <span className="badge badge-paused">paused</span> : null}
                      <div>
                        <Addr value={m.address} />
                      </div>
                    </td>
                    <td data-testid="market-gpu">
                      {gpuModelText(p.gpuModel)}
                      <div>
                        <small>
                          ≥ {p.minVramGib} GiB, ≥ {p.minGpusPerJob} GPU{p.minGpusPerJob > 1 ? 's' : ''} per job
                        </small>
                      </div>
                    </td>
                    <td data-testid="market-price">{fmt(m.data, p.minPricePerSec)}</td>
                    <td>{durationText(p.maxDurationSecs)}</td>
                    <td>
                      <small>
                        min {fmtStake(p.minProviderStake)}, {fmtStake(p.stakePerJob)} locked per job
                      </small>
                    </td>
                    <td>
                      <small>
                        {bpsText(p.verifyRateBps)} sampled, fee {bpsText(p.verificationFeeBps)}
                      </small>
                    </td>
                    <td>{durationText(p.challengeWindowSecs)}</td>
                    <td data-testid="market-open-count">{openOf(m).length}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </QueryState>
      </Section>
      <Section title="My jobs in the queue" testId="my-queue">
        {!owner ? (
          <Notice>Connect a wallet to see where your open jobs stand.</Notice>
        ) : mine.length === 0 ? (
          <Notice testId="empty">You have no open jobs waiting for a provider.</Notice>
        ) : (
          <ul>
            {mine.map((j) => {
              const m = marketOf(j);
              const q = queuePosition(openOf({ address: j.data.market } as Decoded<Market>), j.address);
              return (
                <li key={j.address} data-testid="queue-entry" data-job={j.address}>
                  <Addr value={j.address} /> in market #{m?.data.marketId.toString() ?? '?'}: position{' '}
                  <strong data-testid="queue-position">{q?.position}</strong> of {q?.of} (best price first, then oldest)
                </li>
              );
            })}
          </ul>
        )}
      </Section>
      <Section title="Open jobs" testId="open-jobs">
        <QueryState loading={open.loading} error={open.error} empty={openJobs.length === 0} emptyText="No open jobs right now.">
          <table className="table">
            <thead>
              <tr>
                <th>Job</th>
                <th>Market</th>
                <th>Price / s</th>
                <th>Max duration</th>
                <th>Posted</th>
                <th>Spec</th>
              </tr>
            </thead>
            <tbody>
              {openJobs.map((j) => {
                const m = marketOf(j);
                return (
                  <tr key={j.address} data-testid="open-job" className={j.data.client === owner ? 'mine' : ''}>
                    <td>
                      <Addr value={j.address} />
                    </td>
                    <td>#{m?.data.marketId.toString() ?? '?'}</td>
                    <td>{m ? fmt(m.data, j.data.pricePerSec) : j.data.pricePerSec.toString()}</td>
                    <td>{durationText(j.data.maxDurationSecs)}</td>
                    <td>{timeText(j.data.postedAt)}</td>
                    <td>
                      <small>{jobSpecUri(j.data)}</small>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </QueryState>
      </Section>
    </div>
  );
}
