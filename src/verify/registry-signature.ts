import type { VersionFacts } from '../registry/types.js';
import { verifyP256 } from './ecdsa-p256.js';
import type { P256Task, RegistryKey, RegistryKeySet, SignatureVerdict } from './types.js';

/**
 * npm registry signatures (DESIGN §3): ECDSA P-256 over `${name}@${version}:${dist.integrity}`.
 *
 * Semantics follow npm's client (pacote `lib/registry.js`), failing closed where it does not:
 * - a key counts only if `expires` is null or the publish time is before it; with no publish time a
 *   key that has an expiry does not count (pacote assumes 2015-01-01 instead);
 * - any signature by a known, counting key that fails to verify makes the version 'invalid', even
 *   when another signature verifies: the registry never publishes a bad signature, so one means
 *   tampering;
 * - signatures whose keyid we do not know are ignored when another one is valid (pacote throws):
 *   the registry may start signing with a key before our copy of its keys lists it.
 *
 * The verdict is pure: cryptography is passed in as `isValid`, so that the checks can run inline
 * (`verifyEcdsaP256`) or be batched to a worker pool (`registrySignatureTasks` + `precomputedValidity`).
 */

export type IsSignatureValid = (key: RegistryKey, message: string, sigBase64: string) => boolean;

/** One verification the verdict needs. */
export interface SignatureTask {
  readonly key: RegistryKey;
  readonly message: string;
  readonly sig: string;
}

/** The signed message, or undefined when the version has no dist.integrity (nothing to sign). */
export function signatureMessage(facts: Pick<VersionFacts, 'name' | 'version' | 'integrity'>): string | undefined {
  return facts.integrity === undefined ? undefined : `${facts.name}@${facts.version}:${facts.integrity}`;
}

/** True when signatures made by `key` count for a version published at `publishedAt`. */
export function keyCountsAt(key: RegistryKey, publishedAt: number | undefined): boolean {
  if (key.expires === null) return true;
  const expires = Date.parse(key.expires);
  return publishedAt !== undefined && Number.isFinite(expires) && publishedAt < expires;
}

/** What a version's signature verdict needs: nothing more (the verdict), or these verifications. */
export type SignaturePlan = { readonly verdict: SignatureVerdict } | { readonly tasks: readonly SignatureTask[]; readonly source: string };

function expiredDetail(expired: readonly RegistryKey[], facts: VersionFacts): string {
  const keys = expired.map((key) => `${key.keyid} (expired ${key.expires})`).join(', ');
  const published = facts.publishedAt === undefined ? 'its publish time is unknown' : `it was published ${new Date(facts.publishedAt).toISOString()}`;
  return `signed only by keys that do not count: ${keys}; ${published}`;
}

/** Each key set's keys by keyid, built once per set (key sets are immutable). */
const keysByKeyid = new WeakMap<RegistryKeySet, ReadonlyMap<string, RegistryKey>>();

function byKeyidOf(keys: RegistryKeySet): ReadonlyMap<string, RegistryKey> {
  let map = keysByKeyid.get(keys);
  if (map === undefined) {
    map = new Map(keys.keys.map((key) => [key.keyid, key]));
    keysByKeyid.set(keys, map);
  }
  return map;
}

/**
 * Everything that can be decided without cryptography, or else the verifications still needed.
 * Computed once per version by callers that need both the tasks and the verdict.
 */
export function signaturePlan(facts: VersionFacts, keys: RegistryKeySet | undefined): SignaturePlan {
  const id = `${facts.name}@${facts.version}`;
  if (keys === undefined || keys.keys.length === 0) {
    return { verdict: { status: 'no-keys', detail: `the registry signing keys are unavailable, so the signature of ${id} cannot be checked` } };
  }
  if (facts.signatures.length === 0) {
    return { verdict: { status: 'missing', detail: `${id} has no registry signature (keys from ${keys.source})` } };
  }
  const byKeyid = byKeyidOf(keys);
  const matched = facts.signatures.flatMap((signature) => {
    const key = byKeyid.get(signature.keyid);
    return key === undefined ? [] : [{ key, sig: signature.sig }];
  });
  if (matched.length === 0) {
    const keyids = [...new Set(facts.signatures.map((s) => s.keyid))].join(', ');
    return { verdict: { status: 'unknown-key', detail: `${id} is signed by ${keyids}, none of which is a key from ${keys.source}` } };
  }
  const counting = matched.filter(({ key }) => keyCountsAt(key, facts.publishedAt));
  if (counting.length === 0) {
    const expired = [...new Set(matched.map(({ key }) => key))];
    return { verdict: { status: 'expired-key', keyid: expired[0]?.keyid, detail: `${id} is ${expiredDetail(expired, facts)}` } };
  }
  const message = signatureMessage(facts);
  if (message === undefined) {
    const keyid = counting[0]?.key.keyid;
    return { verdict: { status: 'invalid', keyid, detail: `${id} has a registry signature but no dist.integrity for it to cover` } };
  }
  return { tasks: counting.map(({ key, sig }) => ({ key, message, sig })), source: keys.source };
}

/** The verifications `registrySignatureVerdict` will ask `isValid` about (empty when none are needed). */
export function registrySignatureTasks(facts: VersionFacts, keys: RegistryKeySet | undefined): SignatureTask[] {
  const p = signaturePlan(facts, keys);
  return 'tasks' in p ? [...p.tasks] : [];
}

export function registrySignatureVerdict(facts: VersionFacts, keys: RegistryKeySet | undefined, isValid: IsSignatureValid): SignatureVerdict {
  return verdictFromPlan(signaturePlan(facts, keys), facts, isValid);
}

/** The verdict for `facts` from its plan (`signaturePlan(facts, keys)`), asking `isValid` about each task. */
export function verdictFromPlan(p: SignaturePlan, facts: VersionFacts, isValid: IsSignatureValid): SignatureVerdict {
  if ('verdict' in p) return p.verdict;
  const id = `${facts.name}@${facts.version}`;
  const failed = p.tasks.find((task) => !isValid(task.key, task.message, task.sig));
  if (failed !== undefined) {
    return { status: 'invalid', keyid: failed.key.keyid, detail: `${id} has an invalid registry signature by ${failed.key.keyid}: dist.integrity or the signature was altered` };
  }
  const keyid = p.tasks[0]?.key.keyid;
  return { status: 'valid', keyid, detail: `${id} is signed by ${keyid} (keys from ${p.source})` };
}

/** ECDSA P-256 verification on the calling thread. Never throws: a malformed key or signature is false. */
export function verifyEcdsaP256(key: RegistryKey, message: string, sigBase64: string): boolean {
  return verifyP256(key.key, message, sigBase64);
}

/** The verdict with the cryptography done inline. */
export function verifyRegistrySignature(facts: VersionFacts, keys: RegistryKeySet | undefined): SignatureVerdict {
  return registrySignatureVerdict(facts, keys, verifyEcdsaP256);
}

/** A task in the form `SignaturePool.verifyMany` takes. */
export function toP256Task(task: SignatureTask): P256Task {
  return { key: task.key.key, message: task.message, sig: task.sig };
}

// The message is part of the id: a valid signature copied onto another version must not reuse the
// result computed for the version it was made for, when one batch spans many versions.
function taskId(key: RegistryKey, message: string, sig: string): string {
  return `${key.key}\0${message}\0${sig}`;
}

/**
 * An `isValid` that reads results computed elsewhere: `results[i]` answers `tasks[i]`. A question
 * about a task that was not computed is answered false, so a bookkeeping mistake fails closed.
 */
export function precomputedValidity(tasks: readonly SignatureTask[], results: readonly boolean[]): IsSignatureValid {
  if (tasks.length !== results.length) throw new RangeError(`expected ${tasks.length} results, got ${results.length}`);
  const valid = new Map<string, boolean>();
  tasks.forEach((task, i) => {
    const id = taskId(task.key, task.message, task.sig);
    valid.set(id, (valid.get(id) ?? true) && results[i] === true);
  });
  return (key, message, sig) => valid.get(taskId(key, message, sig)) === true;
}
