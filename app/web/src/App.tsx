import { Component, useEffect, useState, type ErrorInfo, type ReactNode } from 'react';
import { ChainProvider, useChain } from './chain/ChainContext';
import type { Connection } from './chain/connection';
import { CINDER_PROGRAM_ADDRESS } from './client';
import { defaultWsUrl, saveConfig, type AppConfig } from './config';
import EconomicsPage from './pages/EconomicsPage';
import JobsPage from './pages/JobsPage';
import MarketsPage from './pages/MarketsPage';
import ProviderPage from './pages/ProviderPage';
import { Addr, Notice } from './ui/components';
import { WalletProvider, useWallet } from './wallet/WalletContext';

export const PAGES = {
  jobs: { title: 'Jobs', Page: JobsPage },
  provider: { title: 'Provider', Page: ProviderPage },
  markets: { title: 'Markets', Page: MarketsPage },
  economics: { title: 'Economics', Page: EconomicsPage },
} as const;
export type PageName = keyof typeof PAGES;

function pageFromHash(): PageName {
  const h = (globalThis.location?.hash ?? '').replace(/^#\/?/, '') as PageName;
  return h in PAGES ? h : 'jobs';
}

/** A page that throws shows the error instead of blanking the whole dApp. */
class PageBoundary extends Component<{ children: ReactNode; page: string }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  componentDidUpdate(prev: { page: string }) {
    if (prev.page !== this.props.page && this.state.error) this.setState({ error: null });
  }
  componentDidCatch(error: Error, info: ErrorInfo) {
    console.error('page failed', error, info.componentStack);
  }
  render() {
    if (this.state.error) return <Notice kind="error">This page failed: {this.state.error.message}</Notice>;
    return this.props.children;
  }
}

export default function App({ config, connection }: { config: AppConfig; connection?: Connection }) {
  const [cfg, setCfg] = useState(config);
  return (
    <ChainProvider config={cfg} connection={connection}>
      <WalletProvider chain={cfg.chain}>
        <Shell
          onConfig={(c) => {
            saveConfig(c);
            setCfg(c);
          }}
        />
      </WalletProvider>
    </ChainProvider>
  );
}

function Shell({ onConfig }: { onConfig: (c: AppConfig) => void }) {
  const [page, setPage] = useState<PageName>(pageFromHash);
  useEffect(() => {
    const on = () => setPage(pageFromHash());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const { Page } = PAGES[page];
  return (
    <div className="app">
      <header className="top">
        <div className="brand">
          <span className="logo">▲</span> Cinder
        </div>
        <nav>
          {(Object.keys(PAGES) as PageName[]).map((p) => (
            <a key={p} href={`#/${p}`} className={p === page ? 'active' : ''} data-testid={`nav-${p}`}>
              {PAGES[p].title}
            </a>
          ))}
        </nav>
        <ChainBadge onConfig={onConfig} />
        <WalletMenu />
      </header>
      <main>
        <PageBoundary page={page}>
          <Page />
        </PageBoundary>
      </main>
      <footer>
        Program <Addr value={CINDER_PROGRAM_ADDRESS} />
      </footer>
    </div>
  );
}

function ChainBadge({ onConfig }: { onConfig: (c: AppConfig) => void }) {
  const { config, status } = useChain();
  const [editing, setEditing] = useState(false);
  const [url, setUrl] = useState(config.rpcUrl);
  const state = status.reachable === null ? 'connecting' : status.reachable ? 'up' : 'down';
  return (
    <div className={`chain chain-${state}`} data-testid="chain-status" data-state={state}>
      {editing ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            onConfig({ ...config, rpcUrl: url, wsUrl: defaultWsUrl(url) });
            setEditing(false);
          }}
        >
          <input value={url} onChange={(e) => setUrl(e.target.value)} aria-label="RPC URL" data-testid="rpc-input" />
          <button type="submit">Use</button>
        </form>
      ) : (
        <button className="link" onClick={() => setEditing(true)} title="Change the RPC endpoint">
          {state === 'up' && `● ${config.rpcUrl} · slot ${status.slot}${status.live ? ' · live' : ' · polling'}`}
          {state === 'connecting' && `○ connecting to ${config.rpcUrl}…`}
          {state === 'down' && `✕ ${config.rpcUrl} does not answer`}
        </button>
      )}
    </div>
  );
}

function WalletMenu() {
  const { wallets, wallet, owner, connect, disconnect, connecting, error, chain } = useWallet();
  if (owner && wallet) {
    return (
      <div className="wallet" data-testid="wallet">
        <img src={wallet.icon} alt="" width={18} height={18} /> <Addr value={owner} testId="wallet-address" />{' '}
        <button className="link" onClick={() => void disconnect()}>
          Disconnect
        </button>
      </div>
    );
  }
  return (
    <div className="wallet" data-testid="wallet">
      {wallets.length === 0 ? (
        <span className="muted" data-testid="no-wallet">
          No wallet for {chain} found
        </span>
      ) : (
        wallets.map((w) => (
          <button key={w.name} onClick={() => void connect(w)} disabled={connecting} data-testid="connect-wallet">
            <img src={w.icon} alt="" width={16} height={16} /> Connect {w.name}
          </button>
        ))
      )}
      {error && <span className="tx-error">{error}</span>}
    </div>
  );
}
