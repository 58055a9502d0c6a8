import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { PackedBody } from '../cache/packed-body.js';
import type { SignatureLedger } from '../cache/signature-ledger.js';
import { SingleFlight } from '../cache/single-flight.js';
import type { Config, UpstreamConfig } from '../config/types.js';
import { CountersignError, isCountersignError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { VerifyRule } from '../policy/types.js';
import { parsePackument, type ParsedPackument } from '../registry/parse.js';
import { repointDistTags } from '../registry/dist-tags.js';
import { prepareRender, renderPackument, type PackumentForm } from '../registry/render.js';
import { scanPackument, type ScannedPackument } from '../registry/scan.js';
import { spliceAbbreviatedForm, spliceFullForm } from '../registry/splice.js';
import type { MalformedVersion, VersionFacts } from '../registry/types.js';
import type { PackageEvidence } from '../trust/evidence.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { RegistryKeys } from '../upstream/keys.js';
import { fetchPackument, packumentPath } from '../upstream/packument.js';
import { toP256Task, type SignaturePlan } from '../verify/registry-signature.js';
import { planTasks, signedMessages, storeScanned, storeVerdicts, takeKnown, unanswered, validityFrom, validTasks } from '../verify/signature-batch.js';
import type { SignaturePool } from '../verify/signature-pool.js';
import type { ScannedResult } from '../verify/streaming-scan.js';
import { SignatureResults } from '../verify/signature-results.js';
import type { RegistryKeySet } from '../verify/types.js';
import { tarballUrlFor } from './public-url.js';
import type { TarballOrigins } from './tarball-origin.js';
import { DecisionTable } from './decision-table.js';
import { Variant } from './variant.js';
import { decideVersions, keptVersions, signaturePlans, versionDecider, type VersionDecisions } from './version-decisions.js';

/** Served forms kept per package, one per public base URL. */
const MAX_VIEWS_PER_PACKAGE = 4;

/**
 * From this size on, the workers look for the signatures in the raw body as it arrives and while
 * this thread parses it (the typescript packument is 10 MB; 256 KB is ~100 versions of a typical
 * package).
 */
const SCAN_MIN_BYTES = 256 * 1024;

/** How long "this package does not exist upstream" is remembered. */
const NOT_FOUND_TTL_MS = 30_000;

/** Anything that changes decisions for a package besides the packument: the trust store, tamper records. */
export interface DecisionEpochs {
  /** Changes whenever a decision about `name` may change (new audit, revocation, tamper record). */
  epochFor(name: string): string;
  /** Grows with every change to any epoch: while it stands still, no epochFor has moved. */
  generation(): number;
  /** True when a download of exactly this name@version+integrity failed verification. */
  isTampered(facts: VersionFacts): boolean;
}

/** The served state of one package for one public base URL. */
export interface PackumentView {
  readonly name: string;
  readonly rule: VerifyRule;
  readonly facts: ReadonlyMap<string, VersionFacts>;
  readonly decisions: DecisionTable;
  readonly malformed: readonly MalformedVersion[];
  readonly distTags: ReadonlyMap<string, string>;
  readonly full: Variant;
  readonly abbreviated: Variant;
  /** Byte ranges of the served manifests in `full`. */
  readonly manifestRanges: ReadonlyMap<string, readonly [number, number]>;
  /** Versions served (allowed, or warned). */
  readonly servedCount: number;
  /**
   * The upstream's `latest` when it is hidden here: what `npm install <name>` would have installed.
   * A packument request counts as demand for it in the audit queue.
   */
  readonly latestHeldBack: string | undefined;
}

/** A served form and, for the full form, where each manifest sits in it. */
interface RenderedForm {
  readonly variant: Variant;
  readonly manifestRanges: ReadonlyMap<string, readonly [number, number]>;
}

/** Everything of a PackumentView but its rendered forms. */
type ViewFields = Omit<PackumentView, 'full' | 'abbreviated' | 'manifestRanges'>;

// The fields are PackumentView's own, declared once there and copied in by the constructor.
interface LazyView extends ViewFields {}

/**
 * A PackumentView whose two served forms are rendered when first asked for: the form the cold
 * request wants right away, the other one (from the cached upstream body) only if a client ever
 * wants it. npm only asks for the abbreviated form, so most full forms are never held in memory.
 */
class LazyView implements PackumentView {
  #full: RenderedForm | undefined;
  #abbreviated: RenderedForm | undefined;
  readonly #render: (form: PackumentForm) => RenderedForm;

  constructor(fields: ViewFields, render: (form: PackumentForm) => RenderedForm) {
    Object.assign(this, fields);
    this.#render = render;
  }

  get full(): Variant {
    return (this.#full ??= this.#render('full')).variant;
  }

  get manifestRanges(): ReadonlyMap<string, readonly [number, number]> {
    return (this.#full ??= this.#render('full')).manifestRanges;
  }

  get abbreviated(): Variant {
    return (this.#abbreviated ??= this.#render('abbreviated')).variant;
  }

  /** Stores a form rendered by the caller. */
  adopt(form: PackumentForm, rendered: RenderedForm): void {
    if (form === 'full') this.#full = rendered;
    else this.#abbreviated = rendered;
  }

  /** Bytes held by the forms rendered so far. */
  get size(): number {
    return (this.#full?.variant.size ?? 0) + (this.#abbreviated?.variant.size ?? 0);
  }
}

interface CachedView {
  readonly key: string;
  /** The epochs' generation at which `key` was last known to be current. */
  generation: number;
  readonly validUntil: number;
  readonly view: LazyView;
}

interface Entry {
  readonly upstream: string;
  /** The upstream body; undefined when the upstream said the package does not exist. */
  readonly raw: PackedBody | undefined;
  readonly etag: string | undefined;
  fetchedAt: number;
  /** Signature results; carried over when the packument changes. */
  readonly signatures: SignatureResults;
  readonly views: Map<string, CachedView>;
}

export interface ViewResult {
  readonly view: PackumentView;
  /** Served from cache because the upstream failed (its error is the reason). */
  readonly staleBecause: CountersignError | undefined;
}

/**
 * A packument as the decisions and the render take it: parsed (JSON.parse + parsePackument), or
 * scanned (scan.ts: facts and byte ranges, for forms spliced from the upstream's bytes).
 */
type Source = ParsedPackument | ScannedPackument;

function isScanned(source: Source): source is ScannedPackument {
  return 'members' in source;
}

/**
 * The packument in `body`: scanned when the scan can prove the document, else parsed. Throws
 * ECS_UPSTREAM_INVALID_JSON as parsePackument does.
 */
function readPackument(body: Buffer, name: string, upstream: string): Source {
  return scanPackument(body, name) ?? parsePackument(parseJson(body, name, upstream), name);
}

/** The cache entry after a fetch, the packument read from a new body, or why the entry is stale. */
interface Refreshed {
  readonly entry: Entry | undefined;
  readonly parsed: Source | undefined;
  /** Signatures the workers found in a new body and verified while it arrived and was parsed. */
  readonly scanned?: Promise<ScannedResult[]> | undefined;
  readonly staleBecause: CountersignError | undefined;
}

function entrySize(entry: Entry): number {
  let size = 512 + (entry.raw?.size ?? 0);
  for (const { view } of entry.views.values()) size += view.size + view.facts.size * 400;
  return size;
}

function keysTag(keys: RegistryKeySet | undefined): string {
  return keys === undefined ? 'none' : `${keys.source}|${keys.keys.map((k) => `${k.keyid}@${k.expires ?? ''}`).join(',')}`;
}

const UPSTREAM_FAILURES = new Set(['ECS_UPSTREAM_STATUS', 'ECS_UPSTREAM_INVALID_JSON', 'ECS_UPSTREAM_TOO_LARGE', 'ECS_UPSTREAM_RESET', 'ECS_UPSTREAM_UNREACHABLE', 'ECS_UPSTREAM_TIMEOUT']);

export interface PackumentServiceDeps {
  readonly config: Config;
  readonly client: UpstreamClient;
  readonly keys: RegistryKeys;
  readonly pool: SignaturePool;
  readonly metrics: Metrics;
  readonly epochs: DecisionEpochs;
  readonly origins: TarballOrigins;
  readonly now?: () => number;
  /** What the trust store knows about a package (audits, publisher signatures, keys, exemptions). */
  readonly evidence?: (name: string) => PackageEvidence;
  /** Signatures verified before, kept on disk across restarts. */
  readonly ledger?: SignatureLedger | undefined;
}

/**
 * Fetch → parse → verify → decide → rewrite → serialize, with the upstream body and the served
 * bytes cached in one LRU bounded by bytes. A warm request does no JSON work. The served forms are
 * spliced from the upstream's bytes when scan.ts can prove the document (no JSON.parse of it at
 * all); otherwise the document is parsed and re-serialized.
 */
export class PackumentService {
  readonly #deps: PackumentServiceDeps;
  readonly #cache: LRUCache<string, Entry>;
  readonly #flights = new SingleFlight<ViewResult>();
  readonly #fetches = new SingleFlight<Refreshed>();
  readonly #now: () => number;

  constructor(deps: PackumentServiceDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#cache = new LRUCache<string, Entry>({
      maxSize: deps.config.packuments.memoryCacheBytes,
      sizeCalculation: (entry) => Math.max(1, entrySize(entry)),
      // A single packument bigger than the whole budget is still served, just not kept.
      maxEntrySize: deps.config.packuments.memoryCacheBytes,
    });
  }

  /**
   * The served view of `name`, fetching and verifying as needed. `form` is the form the caller is
   * about to send: a cold view renders that one at once, and the other when it is first read.
   * Throws CountersignError.
   */
  async view(name: string, rule: VerifyRule, base: string, form?: PackumentForm): Promise<ViewResult> {
    const cached = this.warmView(name, rule, base);
    if (cached) return { view: cached, staleBecause: undefined };
    return this.#flights.run(`${rule.upstream}\0${name}\0${base}`, () => this.#load(name, rule, base, form));
  }

  /**
   * The cached view when it is still right for now (counted as a cache hit), else undefined; the
   * caller then awaits `view`. Synchronous, so a warm request needs no promise.
   */
  warmView(name: string, rule: VerifyRule, base: string): PackumentView | undefined {
    const cached = this.#warm(name, rule, base);
    if (cached) this.#deps.metrics.cacheRequests.inc({ cache: 'packument', result: 'hit' });
    return cached;
  }

  /**
   * One served version's manifest (tarball URL rewritten), cut from the view's full form: no JSON
   * work, however large the packument. Callers check the decision first; this only reads.
   */
  manifestJson(view: PackumentView, version: string): string | undefined {
    const range = view.manifestRanges.get(version);
    return range === undefined ? undefined : view.full.identity.toString('utf8', range[0], range[1]);
  }

  /** Drops what is cached for a package (a tarball of it failed verification). */
  invalidate(name: string): void {
    for (const upstream of this.#deps.config.upstreams.keys()) this.#cache.delete(`${upstream}\0${name}`);
  }

  get cachedBytes(): number {
    return this.#cache.calculatedSize;
  }

  #entryKey(upstream: string, name: string): string {
    return `${upstream}\0${name}`;
  }

  #isFresh(entry: Entry, now: number): boolean {
    const ttl = entry.raw === undefined ? Math.min(NOT_FOUND_TTL_MS, this.#deps.config.packuments.maxAgeMs) : this.#deps.config.packuments.maxAgeMs;
    return now - entry.fetchedAt < ttl;
  }

  #viewKey(name: string, keys: RegistryKeySet | undefined): string {
    return `${this.#deps.config.policy.hash}|${this.#deps.epochs.epochFor(name)}|${keysTag(keys)}`;
  }

  /** A cached view that is still right for now, without touching the upstream or awaiting anything. */
  #warm(name: string, rule: VerifyRule, base: string): PackumentView | undefined {
    const entry = this.#cache.get(this.#entryKey(rule.upstream, name));
    const now = this.#now();
    if (!entry || entry.raw === undefined || !this.#isFresh(entry, now)) return undefined;
    const cached = entry.views.get(base);
    if (!cached || now >= cached.validUntil) return undefined;
    // Nothing in the trust store or the tamper records changed since: the key still holds, and no
    // string needs building. Else compare the epochs (the keys tag is left to the slow path).
    const generation = this.#deps.epochs.generation();
    if (cached.generation !== generation) {
      if (!cached.key.startsWith(`${this.#deps.config.policy.hash}|${this.#deps.epochs.epochFor(name)}|`)) return undefined;
      cached.generation = generation;
    }
    return cached.view;
  }

  async #load(name: string, rule: VerifyRule, base: string, form: PackumentForm | undefined): Promise<ViewResult> {
    const upstream = this.#deps.client.upstream(rule.upstream);
    const key = this.#entryKey(upstream.name, name);
    let entry = this.#cache.get(key);
    let parsed: Source | undefined;
    let scanned: Promise<ScannedResult[]> | undefined;
    let staleBecause: CountersignError | undefined;
    if (!entry || !this.#isFresh(entry, this.#now())) {
      // Keyed by package alone: requests under every public base URL (every Host) share one fetch.
      ({ entry, parsed, scanned, staleBecause } = await this.#fetches.run(key, () => this.#refresh(name, upstream, key)));
    }
    if (!entry || entry.raw === undefined) {
      throw new CountersignError('ECS_NOT_FOUND', `${name} is not in upstream ${upstream.name}`);
    }

    const keys = await this.#deps.keys.keysFor(upstream);
    const generation = this.#deps.epochs.generation();
    const viewKey = this.#viewKey(name, keys);
    const cached = entry.views.get(base);
    if (cached && cached.key === viewKey && this.#now() < cached.validUntil) return { view: cached.view, staleBecause };

    const started = performance.now();
    const computed = await this.#compute(name, rule, base, entry, parsed ?? readPackument(entry.raw.bytes(), name, upstream.name), keys, form, scanned);
    this.#deps.metrics.rewriteDuration.observe((performance.now() - started) / 1000);
    // Views are per public base URL; without server.publicUrl the base comes from the Host header,
    // so a client sending many hosts must not multiply what a package holds in memory.
    if (!entry.views.has(base) && entry.views.size >= MAX_VIEWS_PER_PACKAGE) entry.views.delete(entry.views.keys().next().value!);
    entry.views.set(base, { key: viewKey, generation, ...computed });
    this.#cache.set(key, entry);
    // Parsed and rendered: from now on the body is only re-read now and then, so keep it compressed.
    // Queued behind the gzip copy the caller is about to ask the thread pool for, not before it.
    const stored = entry;
    setImmediate(() =>
      stored.raw!.pack(() => {
        if (this.#cache.peek(key) === stored) this.#cache.set(key, stored);
      }),
    );
    return { view: computed.view, staleBecause };
  }

  /** Fetches (or revalidates) the upstream packument into the cache; one at a time per package. */
  async #refresh(name: string, upstream: UpstreamConfig, key: string): Promise<Refreshed> {
    const { config, metrics } = this.#deps;
    const upstreamName = upstream.name;
    const now = this.#now();
    let entry = this.#cache.get(key);
    if (entry && this.#isFresh(entry, now)) return { entry, parsed: undefined, staleBecause: undefined };
    try {
      let parsed: Source | undefined;
      let scanned: Promise<ScannedResult[]> | undefined;
      // Wanted by the scan as soon as the body starts arriving; usually long cached by then.
      const keys = this.#deps.keys.keysFor(upstream).then((set) => set?.keys ?? [], () => []);
      // A package the ledger knows has (nearly) nothing left to verify: no scan, only lookups.
      const scan = this.#deps.ledger?.knows(ledgerPackage(upstreamName, name)) ? undefined : this.#deps.pool.streamScan(name, keys, SCAN_MIN_BYTES, config.packuments.maxSizeBytes);
      const fetched = await fetchPackument(this.#deps.client, upstreamName, name, {
        etag: entry?.raw !== undefined ? entry.etag : undefined,
        maxBytes: config.packuments.maxSizeBytes,
        into: scan,
      });
      if (fetched.status === 'not-modified' && entry) {
        entry.fetchedAt = this.#now();
        metrics.cacheRequests.inc({ cache: 'packument', result: 'revalidated' });
      } else if (fetched.status === 'ok') {
        // Checked before it replaces anything: a body that is not a packument is an upstream
        // failure (stale copy if there is one), never a cached entry that fails on every request.
        // Timed from the end of the body: what the scan still takes once everything has arrived.
        const bodyEnded = performance.now();
        scanned = scan?.finish().then((found) => {
          if (found.length > 0) metrics.verificationDuration.observe({ check: 'registry-signature' }, (performance.now() - bodyEnded) / 1000);
          return found;
        });
        parsed = readPackument(fetched.body, name, upstreamName);
        entry = { upstream: upstreamName, raw: new PackedBody(fetched.body), etag: fetched.etag, fetchedAt: this.#now(), signatures: entry?.signatures ?? new SignatureResults(), views: new Map() };
        metrics.cacheRequests.inc({ cache: 'packument', result: 'miss' });
      } else {
        entry = { upstream: upstreamName, raw: undefined, etag: undefined, fetchedAt: this.#now(), signatures: new SignatureResults(), views: new Map() };
        metrics.cacheRequests.inc({ cache: 'packument', result: 'miss' });
      }
      this.#cache.set(key, entry);
      return { entry, parsed, scanned, staleBecause: undefined };
    } catch (err) {
      const usable = entry?.raw !== undefined && now - entry.fetchedAt < config.packuments.staleIfErrorMs;
      if (!usable || !isCountersignError(err) || !UPSTREAM_FAILURES.has(err.code)) throw err;
      metrics.cacheRequests.inc({ cache: 'packument', result: 'stale' });
      return { entry, parsed: undefined, staleBecause: err };
    }
  }

  async #compute(
    name: string,
    rule: VerifyRule,
    base: string,
    entry: Entry,
    parsed: Source,
    keys: RegistryKeySet | undefined,
    form: PackumentForm | undefined,
    scanned: Promise<ScannedResult[]> | undefined,
  ): Promise<{ view: LazyView; validUntil: number }> {
    const { metrics, epochs, origins } = this.#deps;
    const tarballUrl = tarballUrlFor(name, base);
    // The workers verify (the signatures they found in a large body as it arrived, then any the
    // parsed document needs that they missed). Meanwhile this thread plans each version's
    // signature verdict and pre-serializes the versions of the form the request wants (phase 1 of
    // the render does not depend on decisions): what follows the verification runs on one thread.
    const plans = signaturePlans(parsed.facts, keys);
    const verifying = this.#verifySignatures(ledgerPackage(entry.upstream, name), plans, entry.signatures, scanned);
    let prepared;
    try {
      // A scanned packument is spliced once the decisions are known: there is nothing to prepare.
      prepared = form === undefined || isScanned(parsed) ? undefined : prepareRender(parsed, tarballUrl, [form]);
    } finally {
      await verifying;
    }
    const policyStarted = performance.now();
    // Pure given the facts and what is kept in DecisionInputs: DecisionTable calls it again later.
    const decideVersion = versionDecider(rule, origins, this.#now(), this.#deps.evidence?.(name));
    const decided = decideVersions(parsed.facts, plans, validityFrom(entry.signatures), (facts) => epochs.isTampered(facts), decideVersion);
    this.#countHidden(decided, parsed.malformed.length);
    metrics.verificationDuration.observe({ check: 'policy' }, (performance.now() - policyStarted) / 1000);

    const { inputs, served, validUntil } = decided;
    // The dist-tags as renderPackument repoints them: over the served versions, in upstream order.
    const kept = keptVersions(parsed.facts, served);
    const distTags = repointDistTags(parsed.distTags, kept).tags;
    const raw = entry.raw!;
    const tag = createHash('sha256')
      .update(`${entry.etag ?? createHash('sha1').update(raw.bytes()).digest('hex')}|${this.#viewKey(name, keys)}|${base}|${[...served].join(',')}`)
      .digest('base64url')
      .slice(0, 27);
    const rendered = (f: PackumentForm, from: ReturnType<typeof prepareRender>): RenderedForm => {
      const out = renderPackument(from, served, f);
      const variant = f === 'full' ? new Variant(out.body, `${tag}-f`, 'application/json') : new Variant(out.body, `${tag}-a`, 'application/vnd.npm.install-v1+json');
      return { variant, manifestRanges: out.manifestRanges };
    };
    const entryKey = this.#entryKey(entry.upstream, name);
    const upstreamLatest = parsed.distTags.get('latest');
    const latestHeldBack = upstreamLatest !== undefined && inputs.has(upstreamLatest) && !served.has(upstreamLatest) ? upstreamLatest : undefined;
    const facts = parsed.facts;
    const decisions = new DecisionTable(inputs, (version, kept) => decideVersion(facts.get(version)!, kept.signature, kept.tampered));
    const spliced = (from: ScannedPackument, f: PackumentForm): RenderedForm => {
      if (f === 'abbreviated') return { variant: new Variant(spliceAbbreviatedForm(from, served, distTags, tarballUrl), `${tag}-a`, 'application/vnd.npm.install-v1+json'), manifestRanges: new Map() };
      const out = spliceFullForm(from, served, distTags, tarballUrl);
      return { variant: new Variant(out.body, `${tag}-f`, 'application/json'), manifestRanges: out.manifestRanges };
    };
    const view = new LazyView(
      { name, rule, facts: parsed.facts, decisions, malformed: parsed.malformed, distTags, servedCount: served.size, latestHeldBack },
      (later) => {
        // The same upstream bytes, the same decisions: the same document as if rendered at once.
        const source = readPackument(raw.bytes(), name, entry.upstream);
        const again = isScanned(source) ? spliced(source, later) : rendered(later, prepareRender(source, tarballUrl, [later]));
        // Count the new bytes against the cache budget (set() recomputes the entry's size).
        queueMicrotask(() => {
          if (this.#cache.peek(entryKey) === entry) this.#cache.set(entryKey, entry);
        });
        return again;
      },
    );
    if (form !== undefined && prepared !== undefined) view.adopt(form, rendered(form, prepared));
    else if (form !== undefined && isScanned(parsed)) view.adopt(form, spliced(parsed, form));
    return { view, validUntil };
  }

  #countHidden(decisions: VersionDecisions, malformed: number): void {
    const { versionsHidden } = this.#deps.metrics;
    for (const [reason, count] of decisions.hidden) versionsHidden.inc({ reason }, count);
    if (malformed > 0) versionsHidden.inc({ reason: 'malformed' }, malformed);
  }

  async #verifySignatures(pkg: string, plans: ReadonlyMap<VersionFacts, SignaturePlan>, results: SignatureResults, scanned: Promise<ScannedResult[]> | undefined): Promise<void> {
    const { ledger, metrics } = this.#deps;
    const all = planTasks(plans.values());
    const found = scanned === undefined ? [] : await scanned;
    storeScanned(results, found);
    const missing = unanswered(all, results);
    // Worth writing down unless every result was already in memory (and so recorded before).
    const learned = found.length > 0 || missing.length > 0;
    let todo = missing;
    if (ledger !== undefined && missing.length > 0) {
      todo = takeKnown(ledger.validFor(pkg), missing, results);
      const hits = missing.length - todo.length;
      if (hits > 0) metrics.cacheRequests.inc({ cache: 'signature-ledger', result: 'hit' }, hits);
      if (todo.length > 0) metrics.cacheRequests.inc({ cache: 'signature-ledger', result: 'miss' }, todo.length);
    }
    if (todo.length > 0) {
      const started = performance.now();
      const valid = await this.#deps.pool.verifyMany(todo.map(toP256Task));
      metrics.verificationDuration.observe({ check: 'registry-signature' }, (performance.now() - started) / 1000);
      storeVerdicts(results, todo, valid);
    }
    // Results for versions that left the packument are dropped, so what is kept stays bounded by it.
    if (results.size > all.length * 2 + 64) results.retainOnly(signedMessages(all));
    if (ledger !== undefined && learned) ledger.recordSoon(pkg, signedMessages(validTasks(all, results)));
  }
}

/** A package's name in the signature ledger: upstream names have no spaces, package names neither. */
function ledgerPackage(upstream: string, name: string): string {
  return `${upstream} ${name}`;
}

function parseJson(body: Buffer, name: string, upstream: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new CountersignError('ECS_UPSTREAM_INVALID_JSON', `upstream ${upstream} sent a packument for ${name} that is not valid JSON: ${(err as Error).message}`, {
      cause: err,
      details: { path: packumentPath(name) },
    });
  }
}
