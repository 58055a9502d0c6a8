import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { constants } from 'node:zlib';
import type { VerifyRule } from '../policy/types.js';
import { repointDistTags } from '../registry/dist-tags.js';
import type { TarballUrl } from '../registry/render.js';
import { scanPackument, type ScannedPackument } from '../registry/scan.js';
import { spliceAbbreviatedForm, spliceFullForm } from '../registry/splice.js';
import { toP256Task } from '../verify/registry-signature.js';
import { planTasks, signedMessages, storeScanned, storeVerdicts, unanswered, validityFrom, validTasks } from '../verify/signature-batch.js';
import type { SignaturePool } from '../verify/signature-pool.js';
import { SignatureResults } from '../verify/signature-results.js';
import { NPM_KEY_TYPE, parseKeysDocument } from '../verify/keys/parse.js';
import type { RegistryKeySet } from '../verify/types.js';
import { emptyEvidence } from '../trust/evidence.js';
import { parallelGzip } from './parallel-gzip.js';
import { tarballUrlFor } from './public-url.js';
import type { TarballOrigins } from './tarball-origin.js';
import { decideVersions, keptVersions, signaturePlans, versionDecider, type DecideVersion, type VersionDecisions } from './version-decisions.js';

/** Versions in the generated packument: ~2.5 MB, three scan jobs, every hot function called often enough to be optimized. */
const WARM_UP_VERSIONS = 1500;
const WARM_UP_NAME = 'countersign-warm-up';
const CHUNK_BYTES = 64 * 1024;
/**
 * Runs of the main thread's share once the signatures are verified (the scan, then the rest; ~40
 * ms each, no ECDSA, no worker). Five instead of one: the first large packument of a running
 * server then costs ~10% less CPU (bench/cold-probe.mjs, four times 8 alternated runs, typescript
 * after express and react, medians: 281–297 against 290–312 ms gzip, 266–282 against 274–304
 * identity), for ~160 ms more start-up.
 */
const MAIN_THREAD_PASSES = 5;

export interface WarmUpDeps {
  readonly pool: SignaturePool;
  readonly origins: TarballOrigins;
  /** A verify rule of the policy and the URL of its upstream; the warm-up decides under it. */
  readonly rule: VerifyRule;
  readonly upstreamUrl: string;
}

export interface WarmUpReport {
  readonly ms: number;
  readonly versions: number;
  /** Versions whose generated signature the pipeline found valid: all of them, or verification is broken. */
  readonly verified: number;
}

/**
 * Runs the cold packument pipeline once, before the server takes traffic, on a packument made up
 * here and signed with a key made up here: the raw-body scan and ECDSA on the signature workers,
 * the scan, signature plans and verdicts, decisions, both spliced forms and the gzip in pieces.
 * The first large packuments a process serves otherwise also wait for V8 to compile all of that:
 * the scan is JavaScript reading every byte, so until it is optimized it is several times slower.
 * Measured on two cores (bench/cold-probe.mjs, 6 alternated runs): typescript's 10 MB as the first
 * request of a fresh process 677 against 836 ms, and after express and react 448 against 485 ms
 * (gzip) and 466 against 527 (identity); for 0.2-0.7 s of start-up. Nothing is cached, recorded or
 * counted: only pure functions and the worker pool run. The report doubles as a self-check: every
 * generated signature must come out valid.
 */
export async function warmUp(deps: WarmUpDeps): Promise<WarmUpReport> {
  const started = performance.now();
  const { body, keys } = generatedPackument(deps.upstreamUrl);
  const scanKeys = Promise.resolve(keys.keys.map((k) => ({ keyid: k.keyid, key: k.key })));
  const scan = deps.pool.streamScan(WARM_UP_NAME, scanKeys, 0, body.length);
  const results = new SignatureResults();
  if (scan) {
    for (let at = 0; at < body.length; at += CHUNK_BYTES) scan.push(body.subarray(at, at + CHUNK_BYTES));
    storeScanned(results, await scan.finish());
  }

  const parsed = scanPackument(body, WARM_UP_NAME);
  if (parsed === undefined) throw new Error('the generated warm-up packument was not accepted by the scan');
  // What the scan did not find (none of it, without workers) is verified as the service does it.
  const missing = unanswered(planTasks(signaturePlans(parsed.facts, keys).values()), results);
  storeVerdicts(results, missing, await deps.pool.verifyMany(missing.map(toP256Task)));

  const decideVersion = versionDecider(deps.rule, deps.origins, Date.now(), emptyEvidence(WARM_UP_NAME));
  const tarballUrl = tarballUrlFor(WARM_UP_NAME, deps.upstreamUrl);
  let pass = mainThreadPass(parsed, keys, results, decideVersion, tarballUrl);
  for (let i = 1; i < MAIN_THREAD_PASSES; i++) pass = mainThreadPass(scanPackument(body, WARM_UP_NAME)!, keys, results, decideVersion, tarballUrl);
  await parallelGzip(pass.full, constants.Z_BEST_SPEED);
  let verified = 0;
  for (const input of pass.inputs.values()) if (input.signature.status === 'valid') verified++;
  return { ms: performance.now() - started, versions: parsed.facts.size, verified };
}

/**
 * The main thread's share of a cold packument after its scan, with every signature's result
 * known: the service's own per-version loops (version-decisions.ts, signature-batch.ts) over the
 * same shapes of keys, facts and decision inputs that requests bring, and both spliced forms.
 */
function mainThreadPass(parsed: ScannedPackument, keys: RegistryKeySet, results: SignatureResults, decideVersion: DecideVersion, tarballUrl: TarballUrl): { inputs: VersionDecisions['inputs']; full: Buffer } {
  const plans = signaturePlans(parsed.facts, keys);
  const all = planTasks(plans.values());
  unanswered(all, results);
  // What the service hands the signature ledger.
  signedMessages(validTasks(all, results));
  const { inputs } = decideVersions(parsed.facts, plans, validityFrom(results), () => false, decideVersion);
  // Every version served, whatever the operator's policy decided (release age, audits).
  const served = new Set(parsed.versions.keys());
  const tags = repointDistTags(parsed.distTags, keptVersions(parsed.facts, served)).tags;
  const full = spliceFullForm(parsed, served, tags, tarballUrl);
  spliceAbbreviatedForm(parsed, served, tags, tarballUrl);
  return { inputs, full: full.body };
}

/** A packument shaped like a registry's (fields, nesting, sizes), every version signed as the npm registry signs. */
function generatedPackument(upstreamUrl: string): { body: Buffer; keys: RegistryKeySet } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const key = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const keyid = `SHA256:${createHash('sha256').update(key).digest('base64')}`;
  const versions: Record<string, unknown> = {};
  const time: Record<string, string> = { created: '2020-01-01T00:00:00.000Z' };
  for (let i = 0; i < WARM_UP_VERSIONS; i++) {
    const version = `${1 + (i % 7)}.${i % 50}.${i}${i % 5 === 0 ? `-beta.${i % 3}` : ''}`;
    const digest = createHash('sha512').update(version).digest();
    const integrity = `sha512-${digest.toString('base64')}`;
    const sig = sign('sha256', Buffer.from(`${WARM_UP_NAME}@${version}:${integrity}`), privateKey).toString('base64');
    versions[version] = {
      name: WARM_UP_NAME,
      version,
      description: `Generated at start-up to warm the verification pipeline (version ${i}).`,
      license: 'MIT',
      main: 'index.js',
      scripts: { test: 'node --test', build: 'tsc -p .' },
      dependencies: { 'left-pad': `^1.${i % 4}.0`, semver: '^7.6.0' },
      devDependencies: { typescript: '^5.6.0' },
      engines: { node: '>=20' },
      maintainers: [{ name: 'countersign', email: 'warm-up@countersign.invalid' }],
      ...(i % 40 === 39 ? { deprecated: 'superseded' } : {}),
      dist: {
        integrity,
        shasum: createHash('sha1').update(version).digest('hex'),
        tarball: `${upstreamUrl}${WARM_UP_NAME}/-/${WARM_UP_NAME}-${version}.tgz`,
        fileCount: 12,
        unpackedSize: 40_000 + i,
        signatures: [{ keyid, sig }],
        // Some with provenance, as the registry's recent versions: the facts then take every shape they take in service.
        ...(i % 3 === 0 ? { attestations: { url: `${upstreamUrl}-/npm/v1/attestations/${WARM_UP_NAME}@${version}`, provenance: { predicateType: 'https://slsa.dev/provenance/v1' } } } : {}),
      },
      _npmUser: { name: 'countersign', email: 'warm-up@countersign.invalid' },
    };
    // A few without a publish time, as in old packuments.
    if (i % 97 !== 50) time[version] = new Date(Date.UTC(2020, 0, 1) + i * 3_600_000).toISOString();
  }
  const latest = Object.keys(versions).at(-1)!;
  time['modified'] = time[latest]!;
  const doc = { _id: WARM_UP_NAME, name: WARM_UP_NAME, 'dist-tags': { latest }, versions, time, license: 'MIT', readme: 'warm-up' };
  // Parsed as a registry's keys document is, so that the key objects have the service's shapes.
  return { body: Buffer.from(JSON.stringify(doc)), keys: parseKeysDocument({ keys: [{ keyid, keytype: NPM_KEY_TYPE, scheme: NPM_KEY_TYPE, key, expires: null }] }, 'warm-up') };
}
