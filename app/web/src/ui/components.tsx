import type { ReactNode } from 'react';
import type { TxStatus } from '../chain/tx';
import { shortAddress } from './format';

export function Section({ title, children, testId, actions }: { title: string; children: ReactNode; testId?: string; actions?: ReactNode }) {
  return (
    <section className="card" data-testid={testId}>
      <header className="card-head">
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

export function Addr({ value, testId }: { value: string; testId?: string }) {
  return (
    <code className="addr" title={value} data-testid={testId} data-address={value}>
      {shortAddress(value)}
    </code>
  );
}

export function Notice({ kind = 'info', children, testId }: { kind?: 'info' | 'warn' | 'error'; children: ReactNode; testId?: string }) {
  return (
    <p className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'} data-testid={testId}>
      {children}
    </p>
  );
}

/** The usual three states of a query: loading, failed (chain unreachable…), or content. */
export function QueryState({
  loading,
  error,
  empty,
  emptyText,
  children,
}: {
  loading: boolean;
  error: string | null;
  empty: boolean;
  emptyText: ReactNode;
  children: ReactNode;
}) {
  if (error && empty) return <Notice kind="error" testId="query-error">Cannot read the chain: {error}</Notice>;
  if (loading && empty) return <Notice>Loading…</Notice>;
  if (empty) return <Notice testId="empty">{emptyText}</Notice>;
  return <>{children}</>;
}

const PHASE_TEXT: Record<TxStatus['phase'], string> = {
  idle: '',
  simulating: 'Checking…',
  signing: 'Waiting for your wallet…',
  pending: 'Pending: sent, waiting for confirmation…',
  confirmed: 'Confirmed',
  failed: 'Failed',
};

export function TxStatusView({ status, testId = 'tx-status' }: { status: TxStatus; testId?: string }) {
  if (status.phase === 'idle') return null;
  return (
    <div className={`tx tx-${status.phase}`} data-testid={testId} data-phase={status.phase} role="status" aria-live="polite">
      <strong>
        {status.label}: {PHASE_TEXT[status.phase]}
      </strong>
      {status.error && (
        <span className="tx-error" data-testid="tx-error" data-error-name={status.error.name ?? ''}>
          {' '}
          {status.error.message}
        </span>
      )}
      {status.signature && (
        <span className="tx-sig">
          {' '}
          <Addr value={status.signature} testId="tx-signature" />
        </span>
      )}
    </div>
  );
}

export function Stat({ label, value, testId }: { label: string; value: ReactNode; testId?: string }) {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={testId}>
        {value}
      </div>
    </div>
  );
}
