/** How to start the twin, and the misbehaviour fault tests inject into it. */

/** Injected misbehaviour for fault tests. */
export type TwinFault =
  | { kind: 'slow'; ms: number }
  | { kind: 'status'; status: number }
  | { kind: 'malformed' };

/** Reads `slow:<ms>`, `status:<code>` or `malformed`. */
export function parseFault(text: string | undefined): TwinFault | undefined {
  if (!text) return undefined;
  const [kind, value] = text.split(':');
  if (kind === 'malformed') return { kind };
  const n = Number(value);
  if (kind === 'slow' && Number.isFinite(n) && n >= 0) return { kind, ms: n };
  if (kind === 'status' && Number.isInteger(n) && n >= 400 && n <= 599) return { kind, status: n };
  throw new Error(`bad fault '${text}': use slow:<ms>, status:<code> or malformed`);
}

/** How to start the twin. */
export interface TwinOptions {
  /** A Triton model repository directory. */
  repository: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 8000 (Triton's HTTP port) */
  port?: number;
  /** Overrides every model's max_batch_size (1 = batching off, for the benchmark). */
  maxBatchSize?: number;
  /** onnxruntime intra-op threads per instance. @default 1 */
  threads?: number;
  /** @default 8 MiB */
  maxBodyBytes?: number;
  fault?: TwinFault;
  /**
   * Bench-only: every inference answer carries a `TWIN_TIMING_HEADER` (`./timing`) with this
   * twin's phase marks, so a client can split a round trip into wire and twin time. Not part of
   * the protocol (Triton sends no such header), so off unless asked for. @default false
   */
  timing?: boolean;
}
