import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { CountersignError } from '../errors.js';
import { isValidVersion, parsePackageName } from '../registry/name.js';
import { signEnvelope } from '../trust/dsse.js';
import { statementBytes } from '../trust/statement.js';
import { parseTimestamp } from '../trust/time.js';
import { parseCommandArgs } from './args.js';
import { EXIT_OK } from './exit-codes.js';
import { keyFilePath, readKeyFile } from './key-file.js';
import { call, registryUrl } from './registry-client.js';
import { tarballManifest } from './tarball-manifest.js';

export const SIGN_HELP = `countersign sign <package.tgz> [--key FILE] [--out FILE] [--submit] [--registry URL]
                 [--name NAME --version VERSION] [--published-at TIME]

Publisher signature: signs the sha512 of a local tarball (the one you publish) with its name and
version (read from its package.json), the time, and your keyid. Writes the signed document to
--out (or stdout); --submit sends it to countersign as well. Rules with publisherSignature:
required serve the version only with a valid one, from a key enrolled with the publish role.`;

export async function sign(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('sign', argv, {
    key: { type: 'string', short: 'k' },
    out: { type: 'string', short: 'o' },
    submit: { type: 'boolean' },
    registry: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'string' },
    'published-at': { type: 'string' },
  }, true);
  const file = positionals[0];
  if (file === undefined || positionals.length > 1) throw new CountersignError('ECS_USAGE', 'countersign sign: name one tarball, e.g. the file npm pack wrote');
  let tgz: Buffer;
  try {
    tgz = readFileSync(file);
  } catch (err) {
    throw new CountersignError('ECS_USAGE', `cannot read ${file}: ${(err as Error).message}`);
  }
  const manifest = values.name !== undefined && values.version !== undefined ? { name: values.name, version: values.version } : tarballManifest(tgz, file);
  if (!parsePackageName(manifest.name) || !isValidVersion(manifest.version)) throw new CountersignError('ECS_USAGE', `${manifest.name}@${manifest.version} is not a valid npm name and version`);
  const publishedAt = values['published-at'] === undefined ? Date.now() : parseTimestamp(values['published-at']);
  if (publishedAt === undefined) throw new CountersignError('ECS_USAGE', '--published-at must be an RFC 3339 time like 2025-03-01T12:00:00Z');
  const pair = readKeyFile(keyFilePath(values.key));
  const sha512 = createHash('sha512').update(tgz).digest('hex');
  const envelope = signEnvelope(statementBytes({ type: 'publish', signer: pair.keyid, subject: { name: manifest.name, version: manifest.version, sha512 }, publishedAt }), pair.secretKey, pair.keyid);
  if (values.out !== undefined) writeFileSync(values.out, `${envelope}\n`);
  else if (!values.submit) process.stdout.write(`${envelope}\n`);
  process.stderr.write(`signed ${manifest.name}@${manifest.version} (sha512-${Buffer.from(sha512, 'hex').toString('base64')}) with ${pair.keyid}\n`);
  if (values.submit) {
    await call(registryUrl(values.registry), 'POST', '/-/countersign/v1/documents', { body: envelope, contentType: 'application/json' });
    process.stderr.write('submitted: countersign accepted the publisher signature\n');
  }
  return EXIT_OK;
}
