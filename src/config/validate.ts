import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseDuration, parseSize } from './units.js';

/** One problem in a config document: where (a path of keys and indexes) and what was expected. */
export interface ConfigProblem {
  readonly path: ReadonlyArray<string | number>;
  readonly message: string;
}

const SCHEMA_URL = new URL('../../../config/schema.json', import.meta.url);

function accepts(parse: (v: string) => unknown): (value: string) => boolean {
  return (value) => {
    try {
      parse(value);
      return true;
    } catch {
      return false;
    }
  };
}

export function isHttpUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === ''
    && url.search === '' && url.hash === '';
}

/** V8's longest string is ~536 million characters: a larger packument could never be parsed. */
export const MAX_PACKUMENT_BYTES = 512_000_000;

const EXPECTED_FORMAT: Record<string, string> = {
  duration: 'a duration like 30s, 5m, 12h, 3d or 0',
  size: 'a size like 512KB, 64MB, 10GB or a number of bytes',
  'packument-size': `a size like 16MB, at most 512MB (${MAX_PACKUMENT_BYTES} bytes)`,
  'http-url': 'an http(s) URL without credentials, query or fragment, like https://registry.npmjs.org/',
};

let validator: ValidateFunction | undefined;

function compiledValidator(): ValidateFunction {
  if (validator) return validator;
  const schema: unknown = JSON.parse(readFileSync(SCHEMA_URL, 'utf8'));
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
  ajv.addFormat('duration', accepts(parseDuration));
  ajv.addFormat('size', accepts(parseSize));
  ajv.addFormat('packument-size', accepts((value) => {
    if (parseSize(value) > MAX_PACKUMENT_BYTES) throw new RangeError('too large');
  }));
  ajv.addFormat('http-url', isHttpUrl);
  validator = ajv.compile(schema as object);
  return validator;
}

function pathOf(instancePath: string): Array<string | number> {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function shown(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function describe(error: ErrorObject, data: unknown): ConfigProblem | undefined {
  const path = pathOf(error.instancePath);
  const value = path.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | undefined)?.[key], data);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
      const key = String(params.additionalProperty);
      const hint = allowed.length > 0 ? ` (allowed here: ${allowed.join(', ')})` : '';
      return { path: [...path, key], message: `unknown key "${key}"${hint}` };
    }
    case 'required':
      return { path, message: `missing required key "${String(params.missingProperty)}"` };
    case 'enum':
      return { path, message: `expected one of ${(params.allowedValues as unknown[]).map((v) => shown(v)).join(', ')} (got ${shown(value)})` };
    case 'format':
      return { path, message: `expected ${EXPECTED_FORMAT[String(params.format)] ?? String(params.format)} (got ${shown(value)})` };
    case 'type':
      return { path, message: `expected ${String(params.type).replace(',', ' or ')} (got ${shown(value)})` };
    case 'pattern':
      if (error.schemaPath.includes('/glob/')) {
        return { path, message: `expected a package-name glob such as "@acme/*", "left-pad" or "**" (got ${shown(value)})` };
      }
      if (error.schemaPath.includes('/propertyNames/')) {
        return { path, message: `an upstream name must start with a letter and hold only letters, digits, "_" and "-" (got ${shown(params.propertyName ?? value)})` };
      }
      return { path, message: `expected text matching ${String(params.pattern)} (got ${shown(value)})` };
    case 'propertyNames':
      // The pattern error above already said it.
      return undefined;
    case 'minimum':
    case 'maximum':
      if (error.schemaPath.includes('/duration/')) return { path, message: `expected ${EXPECTED_FORMAT.duration} (got ${shown(value)})` };
      return { path, message: `expected a number ${error.keyword === 'minimum' ? '≥' : '≤'} ${String(params.limit)} (got ${shown(value)})` };
    default:
      return { path, message: `${error.message ?? 'is invalid'} (got ${shown(value)})` };
  }
}

/** Checks a config document against config/schema.json; returns every problem found. */
export function validateAgainstSchema(data: unknown): ConfigProblem[] {
  const validate = compiledValidator();
  if (validate(data)) return [];
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const problem = describe(error, data);
    if (!problem) continue;
    const key = `${problem.path.join('.')}|${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}
