import { address, type Address, type ReadonlyUint8Array } from '@solana/kit';
import { useMemo, useState } from 'react';
import { useChain } from '../chain/ChainContext';
import { trackedJobs, trackJob, untrackJob } from '../chain/history';
import { useLiveQuery } from '../chain/hooks';
import { useProtocol } from '../chain/protocol';
import { fetchEventsOf, fetchJobsOfClient, fetchJobsOfMarket, fetchProvider, fetchTokenBalance, type Decoded, type TimedEvent } from '../chain/queries';
import { fetchManifest, fetchResultFile, signResultsRequest, type Manifest } from '../chain/results';
import { associatedTokenAddress, ensureAssociatedToken } from '../chain/tokens';
import {
  JobState,
  SampleStatus,
  VerifyMode,
  escrowFor,
  findJobPda,
  findJobVaultPda,
  fromHex,
  gpuModelText,
  ix,
  jobMatchChallengeEnds,
  jobSpecUri,
  jobStateName,
  parseUnits,
  providerEndpoint,
  resultCommitment,
  sha256,
  toHex,
  type Job,
  type JobKeys,
  type Protocol,
  type Market,
} from '../client';
import { Addr, Notice, QueryState, Section, TxStatusView } from '../ui/components';
import { amountText, DEFAULT_ADDRESS, durationText, mintLabel, timeText } from '../ui/format';
import { useTx } from '../ui/useTx';
import { canSignMessage, walletSignMessage } from '../wallet/standard';
import { useWallet } from '../wallet/WalletContext';

function randomNonce(): bigint {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return b.reduce((n, x) => (n << 8n) | BigInt(x), 0n);
}

export function jobKeys(job: Decoded<Job>, market: Market): JobKeys {
  return {
    job: job.address,
    vault: job.data.vault,
    market: job.data.market,
    client: job.data.client,
    mint: market.paymentMint,
    tokenProgram: market.paymentTokenProgram,
  };
}

/** Rank among a market's open jobs, as a provider picks them: best price first, then oldest. */
export function queuePosition(open: Decoded<Job>[], job: Address): { position: number; of: number } | null {
  const sorted = [...open].sort((a, b) =>
    a.data.pricePerSec !== b.data.pricePerSec
      ? a.data.pricePerSec > b.data.pricePerSec
        ? -1
        : 1
      : a.data.postedAt < b.data.postedAt
        ? -1
        : a.data.postedAt > b.data.postedAt
          ? 1
          : 0,
  );
  const i = sorted.findIndex((j) => j.address === job);
  return i < 0 ? null : { position: i + 1, of: sorted.length };
}

/** The commitment of the job's last ResultSubmitted event (a closed job has no account). */
function submittedCommitment(events: TimedEvent[]): ReadonlyUint8Array | null {
  for (const e of events) if (e.event.name === 'ResultSubmitted') return e.event.data.resultCommitment;
  return null;
}

export default function JobsPage() {
  const { markets, protocol } = useProtocol();
  const { owner } = useWallet();
  const marketList = markets.data ?? [];
  return (
    <div className="page" data-testid="page-jobs">
      <Section title="Post a job" testId="post-job">
        <QueryState
          loading={markets.loading}
          error={markets.error}
          empty={marketList.length === 0}
          emptyText="No markets on this chain yet: an admin has to create one before jobs can be posted."
        >
          <PostJobForm markets={marketList} />
        </QueryState>
      </Section>
      <Section title="My jobs" testId="my-jobs">
        {owner ? <MyJobs owner={owner} markets={marketList} protocol={protocol} /> : <Notice>Connect a wallet to see your jobs.</Notice>}
      </Section>
    </div>
  );
}

function PostJobForm({ markets }: { markets: Decoded<Market>[] }) {
  const { connection, config } = useChain();
  const { owner } = useWallet();
  const { status, run, busy } = useTx();
  const [marketAddr, setMarketAddr] = useState<string>('');
  const market = markets.find((m) => m.address === marketAddr) ?? markets[0];
  const decimals = market.data.paymentDecimals;
  const [specUri, setSpecUri] = useState('');
  const [specHash, setSpecHash] = useState('');
  const [price, setPrice] = useState('');
  const [duration, setDuration] = useState('');
  const [assigned, setAssigned] = useState('');
  const [openFor, setOpenFor] = useState('');
  const [verifyMode, setVerifyMode] = useState<number>(VerifyMode.Exact);
  const [hashNote, setHashNote] = useState<string | null>(null);

  const priceUnits = useMemo(() => {
    try {
      return price ? parseUnits(price, decimals) : market.data.params.minPricePerSec;
    } catch {
      return null;
    }
  }, [price, decimals, market]);
  const durationSecs = duration ? Number(duration) : Math.min(600, market.data.params.maxDurationSecs);
  const escrow = priceUnits !== null && Number.isInteger(durationSecs) && durationSecs > 0 ? escrowFor(priceUnits, durationSecs, verifyMode === VerifyMode.None ? 0 : market.data.params.verificationFeeBps) : null;
  const label = mintLabel(market.data.paymentMint, config.mintLabels);

  const hashFromUri = async () => {
    setHashNote(null);
    try {
      const res = await fetch(specUri);
      if (!res.ok) throw new Error(`${res.status}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      setSpecHash(toHex(await sha256(bytes)));
      // The verification mode the spec asks for (exact unless it says tolerance).
      let mode: unknown;
      try {
        mode = (JSON.parse(new TextDecoder().decode(bytes)) as { verify?: { mode?: unknown } }).verify?.mode;
      } catch {
        mode = undefined;
      }
      const chosen = mode === 'tolerance' || mode === 'none' ? mode : 'exact';
      setVerifyMode(chosen === 'tolerance' ? VerifyMode.Tolerance : chosen === 'none' ? VerifyMode.None : VerifyMode.Exact);
      setHashNote(`sha256 of the spec at that URI; verification: ${chosen}`);
    } catch (e) {
      setHashNote(`Could not fetch the spec (${(e as Error).message}); paste its sha256 instead.`);
    }
  };

  const post = async () => {
    let posted: { client: Address; job: Address } | null = null;
    const ok = await run('Post job', async (client) => {
      if (priceUnits === null) throw new Error(`Price must be an amount with at most ${decimals} decimals`);
      if (!escrow) throw new Error('Duration must be a whole number of seconds');
      const hash = fromHex(specHash);
      if (hash.length !== 32) throw new Error('Spec hash must be 32 bytes (64 hex characters)');
      const nonce = randomNonce();
      const [job, jobBump] = await findJobPda(market.address, client, nonce);
      const [vault, vaultBump] = await findJobVaultPda(job);
      const mint = market.data.paymentMint;
      const tokenProgram = market.data.paymentTokenProgram;
      const clientToken = await associatedTokenAddress(client, mint, tokenProgram);
      const balance = await fetchTokenBalance(connection.rpc, clientToken);
      if (balance === null) throw new Error(`Your wallet holds no ${label}; get some first`);
      if (balance < escrow.total) {
        throw new Error(`The escrow needs ${amountText(escrow.total, decimals, mint, config.mintLabels)}; your wallet holds ${amountText(balance, decimals, mint, config.mintLabels)}`);
      }
      const now = Math.floor(Date.now() / 1000);
      const instruction = await ix.postJob({ job, vault, market: market.address, client, mint, tokenProgram }, clientToken, {
        nonce,
        jobBump,
        vaultBump,
        specHash: hash,
        specUri: specUri.trim(),
        pricePerSec: priceUnits,
        maxDurationSecs: durationSecs,
        assignedProvider: assigned.trim() ? address(assigned.trim()) : null,
        openUntil: openFor.trim() ? BigInt(now + Math.round(Number(openFor) * 60)) : 0n,
        verifyMode,
      });
      // Tracked before sending, so the row survives a settlement that closes the account
      // even if this page misses the moment; dropped again if the post fails.
      trackJob(client, { job, market: market.address, postedAt: now });
      posted = { client, job };
      return [instruction];
    });
    const p = posted as { client: Address; job: Address } | null;
    if (!ok && p) untrackJob(p.client, p.job);
  };

  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault();
        void post();
      }}
    >
      <label>
        Market
        <select data-testid="post-market" value={market.address} onChange={(e) => setMarketAddr(e.target.value)}>
          {markets.map((m) => (
            <option key={m.address} value={m.address}>
              #{m.data.marketId.toString()} · {gpuModelText(m.data.params.gpuModel)} · min{' '}
              {amountText(m.data.params.minPricePerSec, m.data.paymentDecimals, m.data.paymentMint, config.mintLabels)}/s
            </option>
          ))}
        </select>
      </label>
      <label>
        Spec URI
        <input data-testid="post-spec-uri" value={specUri} onChange={(e) => setSpecUri(e.target.value)} placeholder="https://…/spec.json" required />
      </label>
      <label>
        Spec hash (sha256, hex)
        <span className="row">
          <input data-testid="post-spec-hash" value={specHash} onChange={(e) => setSpecHash(e.target.value)} placeholder="64 hex characters" required />
          <button type="button" onClick={() => void hashFromUri()} disabled={!specUri}>
            Hash the spec
          </button>
        </span>
        {hashNote && <small>{hashNote}</small>}
      </label>
      <label>
        Verification (as the spec's verify.mode says)
        <select data-testid="post-verify-mode" value={verifyMode} onChange={(e) => setVerifyMode(Number(e.target.value))}>
          <option value={VerifyMode.Exact}>exact: byte-identical outputs</option>
          <option value={VerifyMode.Tolerance}>tolerance: numeric outputs within the spec's bounds</option>
          <option value={VerifyMode.None}>none: never re-executed, no verification fee (unverified)</option>
        </select>
        <small>Providers refuse a job whose mode differs from its spec</small>
      </label>
      <label>
        Price per second ({label})
        <input
          data-testid="post-price"
          value={price}
          onChange={(e) => setPrice(e.target.value)}
          placeholder={amountText(market.data.params.minPricePerSec, decimals, null, {})}
        />
        <small>Market minimum {amountText(market.data.params.minPricePerSec, decimals, market.data.paymentMint, config.mintLabels)} per second</small>
      </label>
      <label>
        Max duration (seconds)
        <input data-testid="post-duration" value={duration} onChange={(e) => setDuration(e.target.value)} placeholder={String(durationSecs)} inputMode="numeric" />
        <small>At most {durationText(market.data.params.maxDurationSecs)}</small>
      </label>
      <label>
        Assigned provider (optional wallet address)
        <input data-testid="post-assigned" value={assigned} onChange={(e) => setAssigned(e.target.value)} placeholder="anyone may claim" />
      </label>
      <label>
        Cancellable by anyone if unclaimed after (minutes, optional)
        <input data-testid="post-open-for" value={openFor} onChange={(e) => setOpenFor(e.target.value)} placeholder="never" inputMode="numeric" />
      </label>
      <p data-testid="post-escrow">
        Escrow:{' '}
        {escrow
          ? `${amountText(escrow.total, decimals, market.data.paymentMint, config.mintLabels)} (${amountText(escrow.compute, decimals, null, {})} compute + ${amountText(escrow.verificationFee, decimals, null, {})} verification fee); unused time is refunded`
          : '—'}
      </p>
      <button type="submit" data-testid="post-submit" disabled={busy || !owner}>
        {owner ? 'Post job' : 'Connect a wallet to post'}
      </button>
      <TxStatusView status={status} />
    </form>
  );
}

function MyJobs({ owner, markets, protocol }: { owner: Address; markets: Decoded<Market>[]; protocol: Protocol | null }) {
  const { connection, refreshToken, config } = useChain();
  const rpc = connection.rpc;
  const jobs = useLiveQuery(`jobs:${owner}`, () => fetchJobsOfClient(rpc, owner), { program: true });
  const tracked = useMemo(() => trackedJobs(owner), [owner, refreshToken, jobs.data]); // eslint-disable-line react-hooks/exhaustive-deps
  const live = jobs.data ?? [];
  const closed = tracked.filter((t) => !live.some((j) => j.address === t.job));
  const closedKey = closed.map((c) => c.job).join(',');
  const outcomes = useLiveQuery(`outcomes:${closedKey}`, closedKey ? () => Promise.all(closed.map((c) => fetchEventsOf(rpc, c.job, 20))) : null);
  const byMarket = new Map(markets.map((m) => [m.address as string, m.data]));
  const sorted = [...live].sort((a, b) => Number(b.data.postedAt - a.data.postedAt));

  return (
    <QueryState loading={jobs.loading} error={jobs.error} empty={live.length === 0 && closed.length === 0} emptyText="You have no jobs yet.">
      <table className="table" data-testid="jobs-table">
        <thead>
          <tr>
            <th>Job</th>
            <th>Market</th>
            <th>State</th>
            <th>Price / s</th>
            <th>Escrow</th>
            <th>Provider</th>
            <th>Timing</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((j) => {
            const m = byMarket.get(j.data.market);
            return m ? <JobRow key={j.address} job={j} market={m} protocol={protocol} /> : null;
          })}
          {closed.map((c, i) => {
            const events = outcomes.data?.[i] ?? [];
            const settled = events.find((e) => e.event.name === 'JobSettled');
            const cancelled = events.find((e) => e.event.name === 'JobCancelled');
            const m = byMarket.get(c.market);
            const fmt = (v: bigint) => (m ? amountText(v, m.paymentDecimals, m.paymentMint, config.mintLabels) : v.toString());
            // Tracked just before its post is sent: until the account shows up it is posting.
            const posting = !settled && !cancelled && Date.now() / 1000 - c.postedAt < 120;
            let outcome = posting ? 'Posting…' : outcomes.loading ? 'Closed (reading its history…)' : 'Closed';
            if (settled && settled.event.name === 'JobSettled') {
              const d = settled.event.data;
              outcome = `Settled${d.accepted ? ' (accepted)' : ''}: ${d.billedSecs} s billed, provider got ${fmt(d.providerAmount)}, refund ${fmt(d.refund)}`;
            } else if (cancelled && cancelled.event.name === 'JobCancelled') {
              outcome = `Cancelled: refund ${fmt(cancelled.event.data.refund)}`;
            }
            return (
              <tr key={c.job} data-testid="job-row" data-job={c.job} data-state={settled ? 'Settled' : cancelled ? 'Cancelled' : posting ? 'Posting' : 'Closed'}>
                <td>
                  <Addr value={c.job} />
                </td>
                <td>{m ? `#${m.marketId}` : <Addr value={c.market} />}</td>
                <td colSpan={5}>
                  <span className={`badge badge-${settled ? 'settled' : 'closed'}`} data-testid="job-state">
                    {settled ? 'Settled' : cancelled ? 'Cancelled' : posting ? 'Posting' : 'Closed'}
                  </span>{' '}
                  <span data-testid="job-outcome">{outcome}</span>
                </td>
                <td className="actions">
                  {settled && settled.event.name === 'JobSettled' && (
                    <ResultsDownload
                      job={c.job}
                      client={owner}
                      provider={settled.event.data.provider}
                      commitment={submittedCommitment(events)}
                    />
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </QueryState>
  );
}

function JobRow({ job, market, protocol }: { job: Decoded<Job>; market: Market; protocol: Protocol | null }) {
  const { connection, config, now } = useChain();
  const { status, run, busy } = useTx();
  const [extendSecs, setExtendSecs] = useState('600');
  const d = job.data;
  const state = jobStateName(d.state);
  const decimals = market.paymentDecimals;
  const fmt = (v: bigint) => amountText(v, decimals, market.paymentMint, config.mintLabels);
  const keys = jobKeys(job, market);
  const t = now();
  const windowEnd = d.submittedAt + BigInt(d.challengeWindowSecs);
  const hasProvider = d.provider !== DEFAULT_ADDRESS;
  const openJobs = useLiveQuery(
    d.state === JobState.Open ? `open:${d.market}` : 'none',
    d.state === JobState.Open ? () => fetchJobsOfMarket(connection.rpc, d.market, JobState.Open) : null,
  );
  const queue = openJobs.data ? queuePosition(openJobs.data, job.address) : null;

  const payees = async (payer: Address) => {
    const clientToken = await ensureAssociatedToken(connection.rpc, payer, d.client, keys.mint, keys.tokenProgram);
    const providerToken = await ensureAssociatedToken(connection.rpc, payer, d.provider, keys.mint, keys.tokenProgram);
    return {
      create: [...clientToken.create, ...providerToken.create],
      payees: { clientToken: clientToken.address, providerOwner: d.provider, providerToken: providerToken.address },
    };
  };

  const cancel = () =>
    run('Cancel', async (caller) => [await ix.cancelJob(keys, caller, await associatedTokenAddress(d.client, keys.mint, keys.tokenProgram))]);
  // A provider past deadline + grace holds the escrow: expire the job (the timeout slash, the
  // caller's share to this wallet) and cancel it in one transaction, so nobody can claim it
  // in between. The grace is the job's own, fixed when it was posted.
  const expiresAt = d.deadline + BigInt(d.expireGraceSecs);
  const takeBack = () =>
    run('Take back', async (caller) => {
      if (!protocol) throw new Error('The protocol state is still loading; try again in a moment');
      const reward = await ensureAssociatedToken(connection.rpc, caller, caller, protocol.mint, protocol.tokenProgram);
      const clientToken = await associatedTokenAddress(d.client, keys.mint, keys.tokenProgram);
      return [
        ...reward.create,
        await ix.expireJob(keys, caller, d.provider, reward.address, protocol),
        await ix.cancelJob(keys, caller, clientToken),
      ];
    });
  const extend = () =>
    run('Extend', async () => {
      const secs = Number(extendSecs);
      if (!Number.isInteger(secs) || secs <= 0) throw new Error('Add a whole, positive number of seconds');
      return [await ix.extendJob(keys, await associatedTokenAddress(d.client, keys.mint, keys.tokenProgram), secs)];
    });
  const accept = () =>
    run('Accept', async (payer) => {
      const p = await payees(payer);
      return [...p.create, await ix.acceptResult(keys, p.payees)];
    });
  const settle = () =>
    run('Settle', async (payer) => {
      const p = await payees(payer);
      return [...p.create, await ix.settleJob(keys, p.payees)];
    });
  const dispute = () => run('Dispute', async () => [await ix.disputeJob(keys, await associatedTokenAddress(d.client, keys.mint, keys.tokenProgram))]);

  let timing = `posted ${timeText(d.postedAt)}`;
  if (d.state === JobState.Running) {
    timing =
      d.deadline > t
        ? `deadline in ${durationText(d.deadline - t)}`
        : expiresAt >= t
          ? `late: yours to take back in ${durationText(expiresAt - t + 1n)}`
          : 'late: the provider missed its deadline';
  }
  if (d.state === JobState.Submitted) {
    timing = windowEnd > t ? `challenge window ends in ${durationText(windowEnd - t)}` : 'challenge window over';
  }
  // A tolerance job's match is the verifier's word: the client may challenge it for a window.
  const matchEnds = jobMatchChallengeEnds(d);
  const matchChallengeable = matchEnds !== null && matchEnds > t;
  if (matchChallengeable) {
    timing = `verifier's match: yours to challenge for ${durationText(matchEnds - t)}`;
  }
  const submitted = d.state >= JobState.Submitted;

  return (
    <tr data-testid="job-row" data-job={job.address} data-state={state}>
      <td>
        <Addr value={job.address} />
        <div>
          <small title={jobSpecUri(d)}>{jobSpecUri(d)}</small>
        </div>
      </td>
      <td>
        #{market.marketId.toString()} {gpuModelText(market.params.gpuModel)}
      </td>
      <td>
        <span className={`badge badge-${state.toLowerCase()}`} data-testid="job-state">
          {state}
        </span>
        {d.sampleStatus === SampleStatus.Sampled && <small> sampled for re-execution</small>}
        {d.verifyMode === VerifyMode.None && (
          <small data-testid="job-unverified" title="posted with verify mode none: never re-executed, no verification fee">
            {' '}
            unverified
          </small>
        )}
        {queue && (
          <div data-testid="job-queue">
            <small>
              queue position {queue.position} of {queue.of}
            </small>
          </div>
        )}
      </td>
      <td>{fmt(d.pricePerSec)}</td>
      <td>
        {fmt(d.escrowCompute + d.escrowVerification)}
        <div>
          <small>{durationText(d.maxDurationSecs)} max</small>
        </div>
      </td>
      <td>{hasProvider ? <Addr value={d.provider} /> : d.assignedProvider !== DEFAULT_ADDRESS ? <small>only <Addr value={d.assignedProvider} /></small> : '—'}</td>
      <td>
        <small>{timing}</small>
        {submitted && (
          <div>
            <small>billed {d.billedSecs} s</small>
          </div>
        )}
      </td>
      <td className="actions">
        {d.state === JobState.Open && (
          <button onClick={() => void cancel()} disabled={busy} data-testid="job-cancel">
            Cancel
          </button>
        )}
        {d.state === JobState.Running && t > expiresAt && (
          <button
            onClick={() => void takeBack()}
            disabled={busy || !protocol}
            data-testid="job-take-back"
            title="Expire the job (the provider's timeout slash, your share of it to you) and cancel it: the whole escrow comes back"
          >
            Take back escrow
          </button>
        )}
        {(d.state === JobState.Open || d.state === JobState.Running) && (
          <span className="row">
            <input className="narrow" value={extendSecs} onChange={(e) => setExtendSecs(e.target.value)} aria-label="seconds to add" data-testid="job-extend-secs" />
            <button onClick={() => void extend()} disabled={busy} data-testid="job-extend">
              Extend
            </button>
          </span>
        )}
        {(d.state === JobState.Submitted || d.state === JobState.Verified) && (
          <button onClick={() => void accept()} disabled={busy} data-testid="job-accept">
            Accept
          </button>
        )}
        {d.state === JobState.Submitted && windowEnd > t && d.verifyMode !== VerifyMode.None && (
          <button onClick={() => void dispute()} disabled={busy} data-testid="job-dispute">
            Dispute
          </button>
        )}
        {matchChallengeable && (
          <button
            onClick={() => void dispute()}
            disabled={busy}
            data-testid="job-challenge"
            title="Post the dispute bond: a second verifier re-runs the job; if its outputs are wrong, the provider and the verifier that matched them are slashed and you are refunded"
          >
            Challenge match
          </button>
        )}
        {((d.state === JobState.Submitted && windowEnd <= t) || (d.state === JobState.Verified && !matchChallengeable) || d.state === JobState.Refunded) && (
          <button onClick={() => void settle()} disabled={busy} data-testid="job-settle">
            Settle
          </button>
        )}
        <TxStatusView status={status} />
        {submitted && hasProvider && <ResultsDownload job={job.address} client={d.client} provider={d.provider} commitment={d.resultCommitment} />}
      </td>
    </tr>
  );
}

/**
 * Download results from the job's provider with a signed request, and check the manifest's
 * result hash against the on-chain commitment. Works for settled jobs too (the provider keeps
 * results for its retention period; provider and commitment then come from the job's events).
 */
function ResultsDownload({ job, client, provider, commitment }: { job: Address; client: Address; provider: Address; commitment: ReadonlyUint8Array | null }) {
  const { connection } = useChain();
  const { wallet, account } = useWallet();
  const [results, setResults] = useState<{ manifest?: Manifest; error?: string; checked?: string; busy?: boolean }>({});

  const headers = async () => {
    if (!wallet || !account) throw new Error('Connect the wallet that posted the job');
    if (!canSignMessage(wallet)) throw new Error(`${wallet.name} cannot sign messages; results need a signed request`);
    const p = await fetchProvider(connection.rpc, provider);
    if (!p) throw new Error('The provider has no Provider account (it cannot serve results)');
    const endpoint = providerEndpoint(p.data);
    return { endpoint, headers: await signResultsRequest((m) => walletSignMessage(wallet, account, m), client, endpoint, job) };
  };

  const download = async () => {
    setResults({ busy: true });
    try {
      const h = await headers();
      const manifest = await fetchManifest(h.endpoint, job, h.headers);
      let checked: string | undefined;
      if (commitment && manifest.resultHash && /^[0-9a-f]{64}$/i.test(manifest.resultHash)) {
        const c = await resultCommitment(job, provider, fromHex(manifest.resultHash));
        checked = toHex(c) === toHex(commitment) ? 'matches the on-chain commitment' : 'does NOT match the on-chain commitment';
      }
      setResults({ manifest, checked });
    } catch (e) {
      setResults({ error: (e as Error).message });
    }
  };

  const saveFile = async (path: string) => {
    try {
      const h = await headers();
      const blob = await fetchResultFile(h.endpoint, job, path, h.headers);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = path.split('/').pop() || 'result';
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setResults((r) => ({ ...r, error: (e as Error).message }));
    }
  };

  return (
    <div className="results-box">
      <button onClick={() => void download()} disabled={results.busy} data-testid="job-download">
        Download results
      </button>
      {results.error && <Notice kind="error" testId="results-error">{results.error}</Notice>}
      {results.manifest && (
        <div className="results" data-testid="results">
          {results.checked && <p data-testid="results-check">Result hash {results.checked}</p>}
          {results.manifest.files.length === 0 && <pre>{JSON.stringify(results.manifest.raw, null, 2)}</pre>}
          <ul>
            {results.manifest.files.map((f) => (
              <li key={f.path}>
                <button className="link" onClick={() => void saveFile(f.path)} data-testid="results-file">
                  {f.path}
                </button>
                {f.size !== undefined && <small> {f.size} bytes</small>}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
