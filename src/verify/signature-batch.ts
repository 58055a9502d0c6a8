import { ledgerDigest } from '../cache/signature-ledger.js';
import type { IsSignatureValid, SignaturePlan, SignatureTask } from './registry-signature.js';
import type { SignatureResults, SignedMessage } from './signature-results.js';
import type { ScannedResult } from './streaming-scan.js';

/*
 * The per-signature loops of verifying a packument, each a small function (as in
 * server/version-decisions.ts, and for the same reason: a hot loop inside the service's async
 * method had V8 compile the whole method on every large cold packument).
 */

/** Every verification the plans ask for, in plan order. */
export function planTasks(plans: Iterable<SignaturePlan>): SignatureTask[] {
  const all: SignatureTask[] = [];
  for (const plan of plans) if ('tasks' in plan) for (const task of plan.tasks) all.push(task);
  return all;
}

/** Keeps what the streaming scan's workers found and verified. */
export function storeScanned(results: SignatureResults, found: readonly ScannedResult[]): void {
  for (const r of found) results.set(r.key, r.message, r.sig, r.valid);
}

/** The tasks `results` has no answer for. */
export function unanswered(tasks: readonly SignatureTask[], results: SignatureResults): SignatureTask[] {
  const left: SignatureTask[] = [];
  for (const task of tasks) if (!results.has(task.key.key, task.message, task.sig)) left.push(task);
  return left;
}

/** Keeps `valid[i]` as the answer to `tasks[i]`. */
export function storeVerdicts(results: SignatureResults, tasks: readonly SignatureTask[], valid: readonly boolean[]): void {
  for (let i = 0; i < tasks.length; i++) {
    const task = tasks[i]!;
    results.set(task.key.key, task.message, task.sig, valid[i] === true);
  }
}

/** Takes the tasks whose digest is in `known` (valid before) into `results` as valid; returns the others. */
export function takeKnown(known: ReadonlySet<string>, tasks: readonly SignatureTask[], results: SignatureResults): SignatureTask[] {
  if (known.size === 0) return [...tasks];
  const left: SignatureTask[] = [];
  for (const task of tasks) {
    if (known.has(ledgerDigest(task.key.key, task.message, task.sig))) results.set(task.key.key, task.message, task.sig, true);
    else left.push(task);
  }
  return left;
}

/** The key material, message and signature of each task. */
export function signedMessages(tasks: readonly SignatureTask[]): SignedMessage[] {
  const out: SignedMessage[] = [];
  for (const task of tasks) out.push({ key: task.key.key, message: task.message, sig: task.sig });
  return out;
}

/** The tasks `results` holds as valid. */
export function validTasks(tasks: readonly SignatureTask[], results: SignatureResults): SignatureTask[] {
  const valid: SignatureTask[] = [];
  for (const task of tasks) if (results.get(task.key.key, task.message, task.sig) === true) valid.push(task);
  return valid;
}

/** The signature checks' `isValid`, reading `results`: only a signature known to be valid passes. */
export function validityFrom(results: SignatureResults): IsSignatureValid {
  return (key, message, sig) => results.get(key.key, message, sig) === true;
}
