// One autocannon run, with exact latency percentiles: autocannon's own histogram rounds to whole
// milliseconds, too coarse for a response that takes 1–3 ms.
import autocannon from 'autocannon';

export const CORGI_ACCEPT = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function run(options) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    const instance = autocannon(options, (err, result) => (err ? reject(err) : resolve({ result, latencies })));
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
}

/**
 * Loads `url` with `connections` keep-alive connections for `duration` seconds, after a warm-up
 * of `warmup` seconds whose results are dropped.
 */
export async function load({ url, headers, connections, duration, warmup }) {
  const options = { url, headers, connections, pipelining: 1, timeout: 60 };
  if (warmup > 0) await run({ ...options, duration: warmup });
  const { result, latencies } = await run({ ...options, duration });
  latencies.sort((a, b) => a - b);
  const ok = result['2xx'];
  return {
    rps: ok / ((result.duration ?? duration)),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    bytesPerResponse: ok > 0 ? result.throughput.total / (ok + result.non2xx) : NaN,
    ok,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}
