import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCountersignError } from '../../../src/errors.js';
import { parseNpmPath } from '../../../src/server/npm-path.js';

describe('npm URL grammar', () => {
  it('reads packuments, manifests and tarballs, scoped both ways', () => {
    assert.deepEqual(parseNpmPath('/left-pad'), { kind: 'packument', name: 'left-pad' });
    assert.deepEqual(parseNpmPath('/@types%2fnode'), { kind: 'packument', name: '@types/node' });
    assert.deepEqual(parseNpmPath('/@types%2Fnode'), { kind: 'packument', name: '@types/node' });
    assert.deepEqual(parseNpmPath('/@types/node'), { kind: 'packument', name: '@types/node' });
    assert.deepEqual(parseNpmPath('/left-pad/1.3.0'), { kind: 'manifest', name: 'left-pad', spec: '1.3.0' });
    assert.deepEqual(parseNpmPath('/@types/node/latest'), { kind: 'manifest', name: '@types/node', spec: 'latest' });
    assert.deepEqual(parseNpmPath('/@types/node/-/node-20.0.0.tgz'), { kind: 'tarball', name: '@types/node', file: 'node-20.0.0.tgz' });
    assert.deepEqual(parseNpmPath('/@types%2fnode/-/node-20.0.0.tgz'), { kind: 'tarball', name: '@types/node', file: 'node-20.0.0.tgz' });
    assert.deepEqual(parseNpmPath('/left-pad/-rev/3-abc'), { kind: 'package-other', name: 'left-pad' });
    assert.deepEqual(parseNpmPath('/-/v1/search'), { kind: 'special', path: '/-/v1/search' });
    assert.deepEqual(parseNpmPath('/'), { kind: 'root' });
  });

  it('refuses traversal, control characters, stray encoded slashes and bad names', () => {
    const bad: Array<[string, string]> = [
      ['/..', 'ECS_BAD_PATH'],
      ['/%2e%2e', 'ECS_BAD_PATH'],
      ['/left-pad/%2e%2e', 'ECS_BAD_PATH'],
      ['/-/%2e%2e/x', 'ECS_BAD_PATH'],
      ['/left%00pad', 'ECS_BAD_PATH'],
      ['/left-pad/%0a', 'ECS_BAD_PATH'],
      ['/left-pad//x', 'ECS_BAD_PATH'],
      ['/left%5cpad', 'ECS_BAD_PATH'],
      ['/%E0%A4%A', 'ECS_BAD_PATH'],
      ['/@scope%2fname%2fextra', 'ECS_BAD_NAME'],
      ['/left-pad/-/a%2fb.tgz', 'ECS_BAD_PATH'],
      ['/@scope', 'ECS_BAD_NAME'],
      ['/.bin', 'ECS_BAD_NAME'],
      ['/_private', 'ECS_BAD_NAME'],
      ['/node_modules', 'ECS_BAD_NAME'],
      [`/${'x'.repeat(215)}`, 'ECS_BAD_NAME'],
      [`/${'x'.repeat(3000)}`, 'ECS_BAD_PATH'],
      ['relative', 'ECS_BAD_PATH'],
    ];
    for (const [path, code] of bad) {
      assert.throws(() => parseNpmPath(path), (err: unknown) => isCountersignError(err, code as 'ECS_BAD_PATH'), path);
    }
  });
});
