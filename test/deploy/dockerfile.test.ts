// The Dockerfile, without a Docker engine: dockerfile-utils (rcjsuen's validator, the one behind
// the VS Code Docker extension) lints the syntax and the instructions' arguments; our own rules
// (test/helpers/dockerfile.ts) check what a generic linter cannot know about this image. Each of
// our rules is also shown to fail on a Dockerfile that breaks it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { validate } from 'dockerfile-utils';
import { copyFrom, dockerignoreIncludes, execForm, instructionsOf, imagePolicyProblems, parseDockerfile } from '../helpers/dockerfile.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(root, '.dockerignore'), 'utf8');

function lint(text: string): string[] {
  return validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
}

describe('Dockerfile', () => {
  it('passes dockerfile-utils with no error and no warning', () => {
    assert.deepEqual(lint(dockerfile), []);
  });

  it('is linted for real: a broken Dockerfile gets diagnostics', () => {
    const broken = 'FROM node:26-bookworm-slim AS a\nFROM node:26-bookworm-slim AS a\nCMD node a.js\nCMD [\'node\']\nWORKDIR relative\nFOO bar\n';
    const messages = lint(broken).join('\n');
    assert.match(messages, /Duplicate name/i);
    assert.match(messages, /only be one CMD/);
    assert.match(messages, /single quotes/);
    assert.match(messages, /Unknown instruction: FOO/);
    assert.match(messages, /WORKDIR paths should be absolute/);
  });

  it('follows our image rules: stages, pinned base on one libc, numeric user, exec CMD, paths', () => {
    assert.deepEqual(imagePolicyProblems(parseDockerfile(dockerfile)), []);
  });

  it('starts node with the same flags as `npm start`', () => {
    const cmd = instructionsOf(parseDockerfile(dockerfile).stages.at(-1)!, 'CMD')[0]!;
    const args = execForm(cmd) ?? [];
    const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    const npmArgs = start.slice(start.lastIndexOf('&& node ') + '&& '.length).split(' ');
    assert.deepEqual(npmArgs, args);
    assert.ok(args.includes('--heap-growing-percent=50'), 'the heap growth the bench measured (bench/README.md)');
  });

  it('runs a current Node.js LTS on Debian bookworm in every stage', () => {
    const { stages } = parseDockerfile(dockerfile);
    assert.deepEqual(stages.map((s) => s.name), ['build', 'compile', 'runtime']);
    for (const stage of stages) assert.match(stage.image, /^node:(2[4-9]|[3-9]\d)(\.\d+){0,2}-bookworm-slim$/);
  });

  it('sends only the files the Dockerfile copies in the build context', () => {
    const { stages } = parseDockerfile(dockerfile);
    const sources = stages.flatMap((stage) =>
      instructionsOf(stage, 'COPY')
        .filter((copy) => copyFrom(copy) === undefined)
        .flatMap((copy) => (copy.getArgumentsContent() ?? '').split(/\s+/).slice(0, -1)),
    );
    assert.ok(sources.length >= 5, `COPY sources: ${sources.join(' ')}`);
    for (const source of sources) {
      assert.ok(existsSync(join(root, source)), `COPY ${source}: no such file in the repository`);
      assert.ok(dockerignoreIncludes(dockerignore, source), `.dockerignore excludes ${source}, which the Dockerfile copies`);
    }
    for (const excluded of ['node_modules/express/package.json', 'dist/src/cli/main.js', 'data/trust.db', '.git/HEAD', 'test/unit/x.test.ts', 'helm/countersign/Chart.yaml', '.env']) {
      assert.equal(dockerignoreIncludes(dockerignore, excluded), false, `.dockerignore lets ${excluded} into the build context`);
    }
    assert.equal(dockerignoreIncludes(dockerignore, 'src/server/app.ts'), true);
  });
});

describe('our Dockerfile rules catch', () => {
  const good = parseDockerfile(dockerfile);
  assert.deepEqual(imagePolicyProblems(good), []);

  const cases: Array<[string, (text: string) => string, RegExp]> = [
    ['a root user', (t) => t.replace('USER 10001:10001', 'USER 0:0'), /runs as root/],
    ['a named user', (t) => t.replace('USER 10001:10001', 'USER node'), /numeric uid:gid/],
    ['no user at all', (t) => t.replace('USER 10001:10001\n', ''), /no USER/],
    ['a shell-form CMD', (t) => t.replace(/^CMD \[.*\]$/m, 'CMD node dist/src/cli/main.js serve'), /exec form/],
    ['a latest tag', (t) => t.replace(/^(FROM )node:\$\{NODE_VERSION\}-\$\{DEBIAN_RELEASE\}-slim( AS runtime)$/m, '$1node:latest$2'), /latest/],
    ['an untagged base', (t) => t.replace(/^(FROM )node:\$\{NODE_VERSION\}-\$\{DEBIAN_RELEASE\}-slim( AS runtime)$/m, '$1node$2'), /no tag/],
    ['a runtime on another libc', (t) => t.replace(/^(FROM )node:\$\{NODE_VERSION\}-\$\{DEBIAN_RELEASE\}-slim( AS runtime)$/m, '$1node:26-alpine$2'), /different base images/],
    ['an unnamed stage', (t) => t.replace(/ AS compile$/m, ''), /needs a name/],
    ['a single stage', () => 'FROM node:26-bookworm-slim AS only\nUSER 1000\nCMD ["node"]\n', /multi-stage/],
    ['an install in the runtime stage', (t) => t.replace('USER 10001:10001', 'RUN npm ci --omit=dev\nUSER 10001:10001'), /installs packages/],
    ['a compiler in the runtime stage', (t) => t.replace('USER 10001:10001', 'RUN apt-get update && apt-get install -y g++\nUSER 10001:10001'), /toolchain/],
    ['a build stage without the toolchain', (t) => t.replace('python3 make g++', 'ca-certificates'), /python3, make and g\+\+/],
    ['node_modules not taken from the build stage', (t) => t.replace('COPY --from=build /app/node_modules ./node_modules\n', ''), /does not copy node_modules/],
    ['a moved config', (t) => t.replace('COUNTERSIGN_CONFIG=/etc/countersign/config.yaml', 'COUNTERSIGN_CONFIG=/app/config.yaml'), /COUNTERSIGN_CONFIG/],
    ['a moved data dir', (t) => t.replace('COUNTERSIGN_DATA_DIR=/data', 'COUNTERSIGN_DATA_DIR=/var/lib/cs'), /COUNTERSIGN_DATA_DIR/],
    ['another port', (t) => t.replace('EXPOSE 4874', 'EXPOSE 8080'), /EXPOSE 4874/],
  ];
  for (const [what, mutate, expected] of cases) {
    it(what, () => {
      const mutated = mutate(dockerfile);
      assert.notEqual(mutated, dockerfile, 'the mutation did not apply: update this test');
      const problems = imagePolicyProblems(parseDockerfile(mutated));
      assert.ok(problems.some((p) => expected.test(p)), `expected a problem matching ${expected}, got:\n${problems.join('\n')}`);
    });
  }
});
