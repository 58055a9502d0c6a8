import { readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CountersignError } from '../errors.js';
import { decodeBase64Strict, encodeBase64 } from '../trust/base64.js';
import { keyPairFromSecret, type Ed25519KeyPair } from '../trust/ed25519.js';
import { isJsonObject, parseStrictJson } from '../trust/strict-json.js';

const KEY_FILE_TYPE = 'countersign-ed25519-private-key';

/** --key, else COUNTERSIGN_KEY, else ~/.config/countersign/ed25519.key. */
export function keyFilePath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env.COUNTERSIGN_KEY || join(homedir(), '.config', 'countersign', 'ed25519.key'));
}

function keyFileError(path: string, what: string): CountersignError {
  return new CountersignError('ECS_KEY_FILE', `key file ${path}: ${what}`);
}

/** Writes a new private key file with mode 0600; never overwrites one unless `force`. */
export function writeKeyFile(path: string, pair: Ed25519KeyPair, force: boolean): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const text = `${JSON.stringify({ type: KEY_FILE_TYPE, keyid: pair.keyid, publicKey: encodeBase64(pair.publicKey), secretKey: encodeBase64(pair.secretKey) }, null, 2)}\n`;
  try {
    writeFileSync(path, text, { mode: 0o600, flag: force ? 'w' : 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw keyFileError(path, 'already exists; keep it, or pass --force to replace it (the old key can then no longer sign: have it revoked)');
    throw keyFileError(path, `cannot be written (${(err as Error).message})`);
  }
}

/** Reads a private key file, refusing one that others can read (chmod 600 fixes it). */
export function readKeyFile(path: string): Ed25519KeyPair {
  let mode: number;
  let text: Buffer;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist; create one with countersign keygen, or pass --key FILE' : (err as Error).message;
    throw keyFileError(path, why);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) throw keyFileError(path, `is readable by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`);
  let doc: unknown;
  try {
    doc = parseStrictJson(text, { maxBytes: 4096 });
  } catch {
    doc = undefined;
  }
  const secret = isJsonObject(doc) && doc.type === KEY_FILE_TYPE && typeof doc.secretKey === 'string' ? decodeBase64Strict(doc.secretKey) : undefined;
  if (secret?.length !== 32) throw keyFileError(path, 'is not a countersign private key file (countersign keygen writes them)');
  const pair = keyPairFromSecret(new Uint8Array(secret));
  if (isJsonObject(doc) && doc.keyid !== pair.keyid) throw keyFileError(path, 'its keyid does not match its secret key; the file was edited');
  return pair;
}
