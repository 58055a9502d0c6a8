import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** 0.1 ms to 30 s: a cached packument answers in well under a millisecond, a cold 10 MB one in seconds. */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Every metric countersign exports, in one place. One instance per server (its own registry), so
 * that several servers in one test process do not share counters.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly verificationDuration = new Histogram({
    name: 'countersign_verification_duration_seconds',
    help: 'Time spent verifying, per check (registry-signature per packument batch, integrity per tarball, policy per packument).',
    labelNames: ['check'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly rewriteDuration = new Histogram({
    name: 'countersign_packument_rewrite_duration_seconds',
    help: 'Time to turn an upstream packument into the served forms: parse, decide, rewrite, serialize.',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly requestDuration = new Histogram({
    name: 'countersign_request_duration_seconds',
    help: 'Client requests by route, mode (verify, fast, local) and status.',
    labelNames: ['route', 'mode', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly upstreamDuration = new Histogram({
    name: 'countersign_upstream_request_duration_seconds',
    help: 'Requests to upstream registries, from request start to the end of the body.',
    labelNames: ['upstream', 'kind'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly upstreamErrors = new Counter({
    name: 'countersign_upstream_errors_total',
    help: 'Upstream requests that failed: refused, timed out, reset, or answered 5xx.',
    labelNames: ['upstream', 'kind'] as const,
    registers: [this.registry],
  });

  readonly versionsHidden = new Counter({
    name: 'countersign_versions_hidden_total',
    help: 'Versions hidden from a served packument, by reason, counted each time a packument is rewritten.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly tarballsBlocked = new Counter({
    name: 'countersign_tarballs_blocked_total',
    help: 'Tarball requests refused: integrity mismatch (possible tampering), hidden version, foreign origin.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly cacheRequests = new Counter({
    name: 'countersign_cache_requests_total',
    help: 'Cache lookups by cache (packument, tarball-memory, tarball-disk) and result (hit, miss, stale, revalidated).',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
  });

  readonly auditQueueDepth = new Gauge({
    name: 'countersign_audit_queue_depth',
    help: 'Hidden versions that clients asked for and that await an audit.',
    registers: [this.registry],
  });

  readonly ready = new Gauge({
    name: 'countersign_ready',
    help: '1 when the store is open and the policy loaded (what /readyz answers), else 0.',
    registers: [this.registry],
  });

  readonly buildInfo = new Gauge({
    name: 'countersign_build_info',
    help: 'Always 1; labels carry the version and the policy hash.',
    labelNames: ['version', 'policy'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
