import autocannon from 'autocannon';
import { verify } from '@node-rs/argon2';
import { hashPassword } from '../src/accounts/password.js';
import { PASSWORD } from './client.js';
import type { Figure, Options } from './load.js';
import { startBare, withRssPeak } from './proc.js';

/**
 * The two baselines of the load bench, measured in the same run on the same machine:
 * the floor for reads (a bare node:http process answering the same GET /v1/me body) and the
 * ceiling for sign-ins (bare argon2id verifies with the service's own parameters, as many at
 * once as the server's libuv thread pool runs: 4 unless UV_THREADPOOL_SIZE says otherwise).
 */
export async function bareFloor(body: string, o: Options): Promise<Figure> {
  const bare = await startBare(body);
  try {
    await autocannon({ url: bare.base, duration: 1, connections: o.connections });
    const { result, peakMb } = await withRssPeak(bare.child.pid, () => autocannon({ url: bare.base, duration: o.duration, connections: o.connections }));
    return {
      db: '-',
      scenario: `baseline: bare node:http, same body (${body.length} B)`,
      rps: result.requests.total / result.duration,
      p50: result.latency.p50,
      p99: result.latency.p99,
      rssMb: peakMb,
      requests: result.requests.total,
      bad: result.non2xx + result.errors + result.timeouts,
    };
  } finally {
    await bare.stop();
  }
}

export const ARGON_THREADS = Number(process.env.UV_THREADPOOL_SIZE) || 4;

export async function argonCeiling(seconds: number): Promise<Figure> {
  const hash = await hashPassword(PASSWORD);
  for (let i = 0; i < 4; i++) await verify(hash, PASSWORD);
  const times: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: ARGON_THREADS }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        if (!(await verify(hash, PASSWORD))) throw new Error('argon2 verify failed');
        times.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  const at = (p: number) => Math.round(times[Math.min(times.length - 1, Math.floor(p * times.length))]!);
  return {
    db: '-',
    scenario: `baseline: bare argon2id verify × ${ARGON_THREADS} at once`,
    rps: times.length / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    rssMb: NaN,
    requests: times.length,
    bad: 0,
  };
}
