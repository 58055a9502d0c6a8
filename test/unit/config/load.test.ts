import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CONFIG_PATH, loadConfig, parseConfig } from '../../../src/config/load.js';
import { isCountersignError } from '../../../src/errors.js';

const MINIMAL = `
upstreams:
  npmjs: { url: "https://registry.npmjs.org" }
rules:
  - match: ["**"]
`;

function problems(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(text, 'bad.yaml', { env, cwd: '/tmp' });
  } catch (err) {
    assert.ok(isCountersignError(err, 'ECS_CONFIG_INVALID'), String(err));
    return err.message;
  }
  assert.fail('expected ECS_CONFIG_INVALID');
}

describe('config loading', () => {
  it('applies safe defaults with units in the names', () => {
    const config = parseConfig(MINIMAL, 'min.yaml', { env: {}, cwd: '/srv' });
    assert.equal(config.server.port, 4874);
    assert.equal(config.server.host, '0.0.0.0');
    assert.equal(config.server.dataDir, '/srv/data');
    assert.equal(config.upstreams.get('npmjs')!.url, 'https://registry.npmjs.org/');
    assert.equal(config.upstreams.get('npmjs')!.connectTimeoutMs, 10_000);
    assert.equal(config.upstreams.get('npmjs')!.headersTimeoutMs, 30_000);
    assert.equal(config.packuments.maxSizeBytes, 64_000_000);
    const rule = config.policy.rules[0]!;
    assert.equal(rule.mode, 'verify');
    assert.ok(rule.mode === 'verify' && rule.require.base.registrySignature === 'required' && rule.require.base.integrity === 'sha512');
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.server));
  });

  it('loads every shipped config', () => {
    for (const file of ['config/default.yaml', 'config/mirror.yaml', 'config/strict.yaml']) {
      const config = loadConfig({ file: new URL(`../../../../${file}`, import.meta.url).pathname, env: {} });
      assert.ok(config.policy.rules.length > 0, file);
    }
    const def = loadConfig({ file: DEFAULT_CONFIG_PATH, env: {} });
    const rule = def.policy.rules[0]!;
    assert.ok(rule.mode === 'verify');
    assert.equal(rule.require.base.minReleaseAgeMs, 3 * 86_400_000);
    assert.equal(def.upstreams.get('npmjs')!.keys.kind, 'auto');
  });

  it('rejects unknown keys, naming the path, the line and what is allowed', () => {
    const message = problems(`${MINIMAL}packuments:\n  maxAgee: 5m\n`);
    assert.match(message, /bad\.yaml/);
    assert.match(message, /line 7:\d+ packuments\.maxAgee: unknown key "maxAgee" \(allowed here: maxAge,/);
  });

  it('reports every problem at once with what was expected', () => {
    const message = problems(`
server: { port: 99999 }
upstreams:
  npmjs: { url: "ftp://example.com/" }
rules:
  - match: ["not a glob"]
    mode: fsat
    require: { registrySignature: yes, minReleaseAge: 3 days, integrity: md5 }
`);
    assert.match(message, /server\.port: expected a number ≤ 65535 \(got 99999\)/);
    assert.match(message, /upstreams\.npmjs\.url: expected an http\(s\) URL/);
    assert.match(message, /rules\[0\]\.match\[0\]: expected a package-name glob/);
    assert.match(message, /rules\[0\]\.mode: expected one of "verify", "fast" \(got "fsat"\)/);
    assert.match(message, /rules\[0\]\.require\.registrySignature: expected one of "required", "ifPresent", "off"/);
    assert.match(message, /rules\[0\]\.require\.minReleaseAge: expected a duration like 30s, 5m, 12h, 3d or 0 \(got "3 days"\)/);
    assert.match(message, /rules\[0\]\.require\.integrity: expected one of "sha512", "any"/);
  });

  it('caps packuments.maxSize at 512MB, the most a packument parse could take', () => {
    assert.equal(parseConfig(`${MINIMAL}packuments: { maxSize: 512MB }\n`, 'ok.yaml', { env: {} }).packuments.maxSizeBytes, 512_000_000);
    assert.match(problems(`${MINIMAL}packuments: { maxSize: 5GB }\n`), /packuments\.maxSize: expected a size like 16MB, at most 512MB \(512000000 bytes\) \(got "5GB"\)/);
    assert.match(problems(`${MINIMAL}packuments: { maxSize: 600000000 }\n`), /packuments\.maxSize: expected a number ≤ 512000000 \(got 600000000\)/);
  });

  it('refuses a rule naming an unknown upstream, and options that make no sense for its mode', () => {
    assert.match(problems(`${MINIMAL}  - match: ["x"]\n    upstream: nowhere\n`), /rules\[1\]\.upstream: unknown upstream "nowhere" \(configured: npmjs\)/);
    assert.match(problems(`${MINIMAL.replace('- match: ["**"]', '- match: ["**"]\n    mode: fast\n    require: { integrity: any }')}`), /a fast rule verifies nothing/);
    assert.match(problems(`${MINIMAL.replace('- match: ["**"]', '- match: ["**"]\n    forwardAuth: true')}`), /client credentials never go to a verified upstream/);
  });

  it('expands ${VAR} and ${VAR:-fallback}, and names a missing variable', () => {
    const text = `upstreams:\n  npmjs: { url: "\${URL}", token: "\${TOKEN:-}" }\n  other: { url: "\${OTHER:-http://127.0.0.1:9/}", token: "\${SECRET}" }\nrules:\n  - match: ["**"]\n`;
    const config = parseConfig(text, 't.yaml', { env: { URL: 'http://10.0.0.1:4873/', SECRET: 's3' }, cwd: '/' });
    assert.equal(config.upstreams.get('npmjs')!.url, 'http://10.0.0.1:4873/');
    assert.equal(config.upstreams.get('npmjs')!.token, undefined);
    assert.equal(config.upstreams.get('other')!.token, 's3');
    assert.match(problems(text, { URL: 'http://x/' }), /upstreams\.other\.token: environment variable SECRET is not set/);
  });

  it('lets COUNTERSIGN_* variables override the file, and checks them', () => {
    const config = parseConfig(MINIMAL, 't.yaml', {
      env: { COUNTERSIGN_PORT: '9000', COUNTERSIGN_HOST: '127.0.0.1', COUNTERSIGN_DATA_DIR: '/var/cs', COUNTERSIGN_PUBLIC_URL: 'https://cs.example.com', COUNTERSIGN_LOG_LEVEL: 'warn' },
      cwd: '/',
    });
    assert.equal(config.server.port, 9000);
    assert.equal(config.server.host, '127.0.0.1');
    assert.equal(config.server.dataDir, '/var/cs');
    assert.equal(config.server.publicUrl, 'https://cs.example.com/');
    assert.equal(config.log.level, 'warn');
    assert.match(problems(MINIMAL, { COUNTERSIGN_PORT: 'eighty' }), /COUNTERSIGN_PORT: expected an integer from 0 to 65535 \(got "eighty"\)/);
  });

  it('refuses YAML syntax errors and duplicate keys with their line', () => {
    assert.match(problems('upstreams:\n  npmjs: { url: x\nrules: [\n'), /line \d+:\d+/);
    assert.match(problems(`${MINIMAL}rules: []\n`), /Map keys must be unique/);
  });

  it('says which file it could not read', () => {
    assert.throws(() => loadConfig({ file: '/nonexistent/countersign.yaml', env: {} }), (err: unknown) => {
      return isCountersignError(err, 'ECS_CONFIG_NOT_FOUND') && /\/nonexistent\/countersign\.yaml: no such file/.test(err.message);
    });
  });
});
