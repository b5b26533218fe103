/**
 * Downloading a job's results from its provider: the provider serves them at
 * `{endpoint}/v1/jobs/{job}/manifest` and `/v1/jobs/{job}/files/{path}` only to requests signed
 * by the job's client (ed25519 over `cinder-results:v2:{resource}:{timestamp}`, via the wallet's
 * `solana:signMessage`). The resource is the provider's registered endpoint and the job's path
 * under it (`https://gpu1.example.com/v1/jobs/{job}`), so one signature opens that job's files
 * on that provider only, and a wallet user signs once per download.
 */
import { getBase58Decoder, type Address } from '@solana/kit';

/** The endpoint as signatures name it: origin plus path without trailing slashes (the worker
 * normalises with the same WHATWG rules). */
export const endpointBase = (endpoint: string) => {
  const u = new URL(endpoint);
  return u.origin + u.pathname.replace(/\/+$/, '');
};
export const resultsResource = (endpoint: string, job: Address) => `${endpointBase(endpoint)}/v1/jobs/${job}`;
export const resultsMessage = (endpoint: string, job: Address, timestamp: number) =>
  `cinder-results:v2:${resultsResource(endpoint, job)}:${timestamp}`;

export type ResultHeaders = {
  'X-Cinder-Client': string;
  'X-Cinder-Timestamp': string;
  'X-Cinder-Signature': string;
};

export async function signResultsRequest(
  signMessage: (message: Uint8Array) => Promise<Uint8Array>,
  client: Address,
  endpoint: string,
  job: Address,
  timestamp: number = Math.floor(Date.now() / 1000),
): Promise<ResultHeaders> {
  const signature = await signMessage(new TextEncoder().encode(resultsMessage(endpoint, job, timestamp)));
  return {
    'X-Cinder-Client': client,
    'X-Cinder-Timestamp': String(timestamp),
    'X-Cinder-Signature': getBase58Decoder().decode(signature),
  };
}

const base = (endpoint: string) => endpoint.replace(/\/+$/, '');
export const manifestUrl = (endpoint: string, job: Address) => `${base(endpoint)}/v1/jobs/${job}/manifest`;
export const fileUrl = (endpoint: string, job: Address, path: string) =>
  `${base(endpoint)}/v1/jobs/${job}/files/${path.split('/').map(encodeURIComponent).join('/')}`;

export type ManifestFile = { path: string; size?: number; sha256?: string };
export type Manifest = { raw: unknown; files: ManifestFile[]; resultHash?: string };

/** Reads the fields the dApp shows from whatever the provider's manifest holds. */
export function parseManifest(raw: unknown): Manifest {
  const o = (raw ?? {}) as Record<string, unknown>;
  const list = (o.files ?? o.outputs ?? []) as unknown[];
  const files: ManifestFile[] = Array.isArray(list)
    ? list.flatMap((f) => {
        if (typeof f === 'string') return [{ path: f }];
        const r = f as Record<string, unknown>;
        const path = (r.path ?? r.name) as string | undefined;
        return path ? [{ path, size: typeof r.size === 'number' ? r.size : undefined, sha256: (r.sha256 ?? r.hash) as string | undefined }] : [];
      })
    : [];
  const resultHash = (o.result_hash ?? o.resultHash) as string | undefined;
  return { raw, files, resultHash: typeof resultHash === 'string' ? resultHash : undefined };
}

async function checked(res: Response): Promise<Response> {
  if (res.ok) return res;
  const text = await res.text().catch(() => '');
  if (res.status === 401 || res.status === 403) throw new Error(`The provider refused the signed request (${res.status}${text ? `: ${text}` : ''})`);
  if (res.status === 404) throw new Error('The provider has no results for this job (yet)');
  throw new Error(`The provider answered ${res.status}${text ? `: ${text}` : ''}`);
}

export async function fetchManifest(endpoint: string, job: Address, headers: ResultHeaders): Promise<Manifest> {
  let res: Response;
  try {
    res = await fetch(manifestUrl(endpoint, job), { headers });
  } catch {
    throw new Error(`The provider's endpoint ${endpoint} cannot be reached`);
  }
  return parseManifest(await (await checked(res)).json());
}

export async function fetchResultFile(endpoint: string, job: Address, path: string, headers: ResultHeaders): Promise<Blob> {
  let res: Response;
  try {
    res = await fetch(fileUrl(endpoint, job, path), { headers });
  } catch {
    throw new Error(`The provider's endpoint ${endpoint} cannot be reached`);
  }
  return (await checked(res)).blob();
}
