import type { Address } from '@solana/kit';

/**
 * Jobs this browser posted, so a job still shows after settlement closes its account (its
 * outcome is then read from the JobSettled / JobCancelled event in its history).
 */
export type TrackedJob = { job: Address; market: Address; postedAt: number };

const key = (owner: string) => `cinder.jobs.${owner}`;

export function trackedJobs(owner: string, storage: Storage | undefined = globalThis.localStorage): TrackedJob[] {
  try {
    return JSON.parse(storage?.getItem(key(owner)) ?? '[]') as TrackedJob[];
  } catch {
    return [];
  }
}

export function trackJob(owner: string, job: TrackedJob, storage: Storage | undefined = globalThis.localStorage) {
  const all = trackedJobs(owner, storage).filter((j) => j.job !== job.job);
  all.unshift(job);
  storage?.setItem(key(owner), JSON.stringify(all.slice(0, 200)));
}

export function untrackJob(owner: string, job: string, storage: Storage | undefined = globalThis.localStorage) {
  storage?.setItem(key(owner), JSON.stringify(trackedJobs(owner, storage).filter((j) => j.job !== job)));
}
