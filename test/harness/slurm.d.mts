// Types of slurm.mjs, for the TypeScript tests that start the cluster.
export type SlurmCluster =
  | { ok: true; dir: string; env: { SLURM_CONF: string }; jobcomp: string; host: string; stop(): Promise<number[]> }
  | { ok: false; skipped: string };

export function startSlurm(options?: { dir?: string; cpus?: number; log?: (message: string) => void }): Promise<SlurmCluster>;

export function slurmDaemons(): string[];
