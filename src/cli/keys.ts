import { CountersignError } from '../errors.js';
import { parseDuration } from '../config/units.js';
import { keyJson, revocationJson } from '../server/routes/api/keys.js';
import { signEnvelope } from '../trust/dsse.js';
import { KEYID_RE } from '../trust/ed25519.js';
import { statementBytes } from '../trust/statement.js';
import { parseTimestamp } from '../trust/time.js';
import { adminTarget, TARGET_HELP, TARGET_OPTIONS, withTarget } from './admin-target.js';
import { parseCommandArgs } from './args.js';
import { EXIT_OK } from './exit-codes.js';
import { keyFilePath, readKeyFile } from './key-file.js';
import { call, callJson, registryUrl } from './registry-client.js';

export const KEYS_HELP = `countersign keys add|list|revoke

  keys add --public-key BASE64 --principal NAME [--role audit|publish]... [--package GLOB]...
           [--trust low|medium|high] [--not-before TIME] [--not-after TIME | --valid-for 90d]
      Enrols a key (admin). Defaults: role audit, packages **, trust medium, valid from now for
      trust.maxKeyValidity (180d); a longer window is refused. Rotation = enrol a new key for
      the same principal (then revoke the old one).
  keys list [--json]
      Every enrolled key with its status (valid, expired, not-yet-valid, revoked) (admin).
  keys revoke KEYID --reason TEXT [--compromised-since TIME]
      Revokes a key for good (admin). Signatures first seen at or after --compromised-since are
      void; without it, all of them.
  keys revoke --self [--key FILE] --reason TEXT [--compromised-since TIME] [--registry URL]
      Revokes your own key with a document signed by it (no admin token needed).

TIME is RFC 3339, like 2025-03-01T12:00:00Z.
${TARGET_HELP}`;

function time(text: string | undefined, flag: string): string | undefined {
  if (text === undefined) return undefined;
  const ms = parseTimestamp(text);
  if (ms === undefined) throw new CountersignError('ECS_USAGE', `--${flag} must be an RFC 3339 time like 2025-03-01T12:00:00Z (got ${JSON.stringify(text)})`);
  return new Date(ms).toISOString();
}

async function add(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('keys add', argv, {
    ...TARGET_OPTIONS,
    'public-key': { type: 'string' },
    principal: { type: 'string' },
    role: { type: 'string', multiple: true },
    package: { type: 'string', multiple: true },
    trust: { type: 'string' },
    'not-before': { type: 'string' },
    'not-after': { type: 'string' },
    'valid-for': { type: 'string' },
  });
  if (values['public-key'] === undefined || values.principal === undefined) throw new CountersignError('ECS_USAGE', 'countersign keys add needs --public-key (printed by countersign keygen) and --principal (who holds it, like acme/alice)');
  if (values['not-after'] !== undefined && values['valid-for'] !== undefined) throw new CountersignError('ECS_USAGE', 'give --not-after or --valid-for, not both');
  const notBefore = time(values['not-before'], 'not-before');
  let notAfter = time(values['not-after'], 'not-after');
  if (values['valid-for'] !== undefined) {
    let ms: number;
    try {
      ms = parseDuration(values['valid-for']);
    } catch (err) {
      throw new CountersignError('ECS_USAGE', `--valid-for: ${(err as Error).message}`);
    }
    notAfter = new Date((notBefore === undefined ? Date.now() : Date.parse(notBefore)) + ms).toISOString();
  }
  const request = {
    publicKey: values['public-key'],
    principal: values.principal,
    roles: values.role ?? ['audit'],
    ...(values.package ? { packages: values.package } : {}),
    ...(values.trust ? { trust: values.trust } : {}),
    ...(notBefore ? { notBefore } : {}),
    ...(notAfter ? { notAfter } : {}),
  };
  const target = adminTarget(values, { create: true });
  const key = await withTarget(target, async (t) => {
    if (t.kind === 'remote') return callJson<Record<string, unknown>>(t.base, 'POST', '/-/countersign/v1/keys', { body: JSON.stringify(request), contentType: 'application/json', token: t.token });
    const record = t.store.enrol(request);
    return keyJson(t.store.keys().find((k) => k.key.keyid === record.keyid)!, t.store.trust.maxKeyValidityMs);
  });
  process.stdout.write(`enrolled ${String(key.keyid)} for ${String(key.principal)}: roles ${(key.roles as string[]).join(', ')}, packages ${(key.packages as string[]).join(', ')}, trust ${String(key.trust)}, valid ${String(key.notBefore)} to ${String(key.notAfter)}\n`);
  return EXIT_OK;
}

async function list(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('keys list', argv, { ...TARGET_OPTIONS, json: { type: 'boolean' } });
  const keys = await withTarget(adminTarget(values, { create: false }), async (t) => {
    if (t.kind === 'remote') return (await callJson<{ keys: Array<Record<string, unknown>> }>(t.base, 'GET', '/-/countersign/v1/keys', { token: t.token })).keys;
    return t.store.keys().map((k) => keyJson(k, t.store.trust.maxKeyValidityMs));
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
    return EXIT_OK;
  }
  if (keys.length === 0) process.stdout.write('no keys enrolled yet (countersign keys add)\n');
  for (const k of keys) {
    process.stdout.write(`${String(k.status).padEnd(14)} ${String(k.principal).padEnd(24)} ${String(k.keyid)}  ${(k.roles as string[]).join(',')}  ${(k.packages as string[]).join(',')}  trust ${String(k.trust)}  until ${String(k.notAfter)}\n`);
  }
  return EXIT_OK;
}

async function revoke(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('keys revoke', argv, {
    ...TARGET_OPTIONS,
    reason: { type: 'string' },
    'compromised-since': { type: 'string' },
    self: { type: 'boolean' },
    key: { type: 'string', short: 'k' },
  }, true);
  if (!values.reason) throw new CountersignError('ECS_USAGE', 'countersign keys revoke needs --reason (it is recorded and shown with every audit the revocation voids)');
  const compromisedSince = time(values['compromised-since'], 'compromised-since');
  if (values.self) {
    const pair = readKeyFile(keyFilePath(values.key));
    const doc = signEnvelope(statementBytes({ type: 'revocation', signer: pair.keyid, keyid: pair.keyid, reason: values.reason, compromisedSince: compromisedSince === undefined ? undefined : Date.parse(compromisedSince) }), pair.secretKey, pair.keyid);
    await call(registryUrl(values.registry), 'POST', '/-/countersign/v1/documents', { body: doc, contentType: 'application/json' });
    process.stdout.write(`revoked ${pair.keyid} (self-signed); delete ${keyFilePath(values.key)} and generate a new key\n`);
    return EXIT_OK;
  }
  const keyid = positionals[0];
  if (keyid === undefined || !KEYID_RE.test(keyid)) throw new CountersignError('ECS_USAGE', 'countersign keys revoke: give the keyid (ed25519:…, see countersign keys list), or --self with your key file');
  const body = { reason: values.reason, ...(compromisedSince ? { compromisedSince } : {}) };
  const state = await withTarget(adminTarget(values, { create: false }), async (t) => {
    if (t.kind === 'remote') return callJson<Record<string, unknown>>(t.base, 'POST', `/-/countersign/v1/keys/${keyid}/revoke`, { body: JSON.stringify(body), contentType: 'application/json', token: t.token });
    return revocationJson(t.store.revoke({ keyid, ...body }));
  });
  process.stdout.write(`revoked ${keyid}: void from ${String(state.voidFrom)}\n`);
  return EXIT_OK;
}

export async function keys(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'add':
      return add(rest);
    case 'list':
      return list(rest);
    case 'revoke':
      return revoke(rest);
    default:
      throw new CountersignError('ECS_USAGE', `countersign keys: expected add, list or revoke${sub === undefined ? '' : ` (got ${JSON.stringify(sub)})`}; see countersign help keys`);
  }
}
