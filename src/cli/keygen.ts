import { encodeBase64 } from '../trust/base64.js';
import { generateKeyPair } from '../trust/ed25519.js';
import { parseCommandArgs } from './args.js';
import { EXIT_OK } from './exit-codes.js';
import { keyFilePath, writeKeyFile } from './key-file.js';

export const KEYGEN_HELP = `countersign keygen [--out FILE] [--force]

Creates an Ed25519 key for signing audits and publisher signatures. The private key goes to FILE
(default COUNTERSIGN_KEY, else ~/.config/countersign/ed25519.key) with mode 0600 and never leaves
it; an existing file is kept unless --force. Prints the public key and keyid to send to an admin,
who enrols the key (countersign keys add).`;

export async function keygen(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('keygen', argv, { out: { type: 'string', short: 'o' }, force: { type: 'boolean' } });
  const path = keyFilePath(values.out);
  const pair = generateKeyPair();
  writeKeyFile(path, pair, values.force ?? false);
  const publicKey = encodeBase64(pair.publicKey);
  process.stdout.write([
    `wrote ${path} (mode 0600): keep it secret; it is your signature`,
    `public key: ${publicKey}`,
    `keyid:      ${pair.keyid}`,
    '',
    'Send the public key to an admin, who enrols it, e.g.:',
    `  countersign keys add --public-key ${publicKey} --principal <you, like acme/alice> --role audit`,
    '',
  ].join('\n'));
  return EXIT_OK;
}
