import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision } from '../../../src/policy/decision.js';
import { DecisionTable, decisionInputs, type DecisionInputs } from '../../../src/server/decision-table.js';
import type { SignatureVerdict } from '../../../src/verify/types.js';

const valid: SignatureVerdict = { status: 'valid', keyid: 'k', detail: 'signed by k' };
const invalid: SignatureVerdict = { status: 'invalid', keyid: 'k', detail: 'altered' };

function decision(allowed: boolean, detail: string): Decision {
  return {
    allowed,
    warned: false,
    reasons: allowed ? [] : ['signature-invalid'],
    checks: [{ check: 'registry-signature', ok: allowed, detail, ...(allowed ? {} : { reason: 'signature-invalid' as const }) }],
    summary: allowed ? 'passes' : `fails: ${detail}`,
    revisitAt: undefined,
  };
}

describe('DecisionTable', () => {
  const decide = (version: string, kept: DecisionInputs) => decision(kept.signature.status === 'valid' && !kept.tampered, `${version}: ${kept.signature.detail}`);
  const inputs = new Map<string, DecisionInputs>([
    ['1.0.0', decisionInputs(decide('1.0.0', { allowed: true, warned: false, reasons: [], signature: valid, tampered: false }), valid, false)],
    ['1.0.1', decisionInputs(decide('1.0.1', { allowed: false, warned: false, reasons: [], signature: invalid, tampered: false }), invalid, false)],
    ['1.0.2', decisionInputs(decide('1.0.2', { allowed: true, warned: false, reasons: [], signature: valid, tampered: false }), valid, false)],
  ]);
  const table = new DecisionTable(inputs, decide);

  it('keeps what serving needs, one shared empty reasons list for allowed versions', () => {
    assert.equal(table.size, 3);
    assert.deepEqual([...table.keys()], ['1.0.0', '1.0.1', '1.0.2']);
    assert.deepEqual(table.summary('1.0.1'), { allowed: false, warned: false, reasons: ['signature-invalid'], signature: invalid, tampered: false });
    assert.equal(table.summary('1.0.0')!.reasons, table.summary('1.0.2')!.reasons);
    assert.ok(Object.isFrozen(table.summary('1.0.0')!.reasons));
    assert.equal(table.summary('2.0.0'), undefined);
  });

  it('recomputes the full decision from the kept inputs, the same as the first time', () => {
    assert.deepEqual(table.decision('1.0.1'), decide('1.0.1', inputs.get('1.0.1')!));
    assert.equal(table.decision('1.0.1')!.checks[0]!.detail, '1.0.1: altered');
    assert.equal(table.decision('2.0.0'), undefined);
  });
});
