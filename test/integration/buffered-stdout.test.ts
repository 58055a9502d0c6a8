import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';

const LOG_MODULE = new URL('../../src/log.js', import.meta.url).href;

/** Runs `body` in a child process with `out = bufferedStdout()`, `logger` on it and `line(i)`, a ~220-byte JSON line. */
function child(body: string, env: NodeJS.ProcessEnv = process.env) {
  const script = [
    `import { bufferedStdout, createLogger } from ${JSON.stringify(LOG_MODULE)};`,
    'const out = bufferedStdout();',
    "const logger = createLogger('info', out);",
    "const pad = 'x'.repeat(200);",
    `const line = (i) => '{"n":' + i + ',"pad":"' + pad + '"}\\n';`,
    body,
  ].join('\n');
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { proc, exited, stderr: () => stderr };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

/** The first line the child wrote to stderr, parsed; fails with `what` if none came within `timeoutMs`. */
async function firstStderrLine(stderr: () => string, timeoutMs: number, what: string): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  while (!stderr().includes('\n')) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return JSON.parse(stderr().split('\n')[0]!);
}

/** `text` is exactly the lines 0 to count - 1, in order. */
function assertNumbered(text: string, count: number): void {
  const lines = text.trim().split('\n');
  assert.equal(lines.length, count);
  lines.forEach((l, i) => assert.equal((JSON.parse(l) as { n: number }).n, i));
}

describe('server stdout (batched log lines)', () => {
  for (const [how, ending] of [
    ['the event loop drains', ''],
    ['process.exit() is called', 'process.exit(3);'],
    ['an error is thrown', "throw new Error('boom');"],
  ] as const) {
    it(`writes every line, in order, when ${how}`, async () => {
      // 1,000 lines: several 64 K batches and a partial one that only the exit path hands over.
      const { proc, exited } = child(`for (let i = 0; i < 1000; i++) out.write(line(i));\nlogger.info('last');\n${ending}`);
      const [text] = await Promise.all([readAll(proc.stdout), exited]);
      const lines = text.trim().split('\n');
      assert.equal(lines.length, 1001);
      lines.slice(0, 1000).forEach((l, i) => assert.equal((JSON.parse(l) as { n: number }).n, i));
      assert.equal((JSON.parse(lines[1000]!) as { msg: string }).msg, 'last');
    });
  }

  it('writes every line, in order, when an error is thrown while libuv\'s thread pool is busy', async () => {
    // Regression: batches were written by asynchronous writes on the thread pool, and the exit
    // path wrote what was queued behind one still in flight synchronously, ahead of it (the first
    // line read was number 300). A pool of one thread held by a long key derivation keeps the
    // first batch's write waiting for as long as the process lives.
    const busy = "const { pbkdf2 } = await import('node:crypto'); pbkdf2('x', 'y', 1_000_000, 32, 'sha256', () => {});";
    const { proc, exited } = child(`${busy}\nfor (let i = 0; i < 1000; i++) out.write(line(i));\nthrow new Error('boom');`, { ...process.env, UV_THREADPOOL_SIZE: '1' });
    const [text] = await Promise.all([readAll(proc.stdout), exited]);
    assertNumbered(text, 1000);
  });

  it('keeps serving while the reader is behind, and writes everything once it reads', async () => {
    // 1.1 MB of lines against a pipe that holds a few hundred KiB: the writes must not block the
    // event loop (the timer below would not fire), and what waited must arrive whole and in order.
    const { proc, exited, stderr } = child(`
      for (let i = 0; i < 5000; i++) out.write(line(i));
      setTimeout(() => process.stderr.write(JSON.stringify({ alive: true, dropped: out.droppedLines }) + '\\n'), 50);
    `);
    proc.stdout.pause();
    assert.deepEqual(await firstStderrLine(stderr, 10_000, 'the child stayed blocked on its stdout'), { alive: true, dropped: 0 });
    const [text] = await Promise.all([readAll(proc.stdout), exited]);
    assertNumbered(text, 5000);
  });

  it('calls flush back once a reader has taken every line', async () => {
    const { proc, exited, stderr } = child(`
      for (let i = 0; i < 3000; i++) out.write(line(i));
      out.flush((err) => process.stderr.write(JSON.stringify({ err: err?.message ?? null }) + '\\n'));
    `);
    const [text] = await Promise.all([readAll(proc.stdout), exited]);
    assertNumbered(text, 3000);
    assert.deepEqual(JSON.parse(stderr().split('\n')[0]!), { err: null });
  });

  it('calls flush back with an error after 5 s of a stalled reader, and lets the process exit', async () => {
    // Regression: flush polled every millisecond with a referenced timer until the queue was
    // empty, so a reader that never read meant no callback and a process that never exited.
    // The child has nothing else to do: it exits once flush gives up.
    const { proc, exited, stderr } = child(`
      for (let i = 0; i < 5000; i++) out.write(line(i));
      const asked = Date.now();
      out.flush((err) => process.stderr.write(JSON.stringify({ err: err?.message ?? null, after: Date.now() - asked }) + '\\n'));
    `);
    proc.stdout.pause();
    const report = (await firstStderrLine(stderr, 15_000, 'flush never called back')) as { err: string | null; after: number };
    assert.match(report.err ?? '', /stdout has not taken \d+ bytes of log lines after 5 s/);
    assert.ok(report.after >= 4_900, `flush gave up after ${report.after} ms`);
    // The exit path writes what stayed queued once the reader reads.
    const [text] = await Promise.all([readAll(proc.stdout), exited]);
    assertNumbered(text, 5000);
  });

  it('drops and counts batches a stalled reader has not taken, beyond 16 MiB, and holds no more', async () => {
    // Nobody reads stdout until the child says how many lines it dropped: 400,000 lines of ~220
    // bytes (88 MB) cannot all wait.
    const { proc, exited, stderr } = child(`
      const before = process.memoryUsage().rss;
      for (let i = 0; i < 400000; i++) out.write(line(i));
      setTimeout(() => process.stderr.write(JSON.stringify({ dropped: out.droppedLines, grew: process.memoryUsage().rss - before }) + '\\n'), 200);
    `);
    proc.stdout.pause();
    while (!stderr().includes('\n')) await new Promise((resolve) => setTimeout(resolve, 20));
    const report = JSON.parse(stderr().split('\n')[0]!) as { dropped: number; grew: number };
    assert.ok(report.dropped > 0, 'lines were dropped');
    assert.ok(report.grew < 64 * 1024 * 1024, `the process grew by ${report.grew} bytes while 88 MB of lines were written`);
    const [text] = await Promise.all([readAll(proc.stdout), exited]);
    const written = text.split('\n').filter(Boolean);
    assert.equal(written.length + report.dropped, 400_000, 'every line was either written or counted as dropped');
    // What was written is whole lines, in order (batches are dropped whole).
    let last = -1;
    for (const l of written) {
      const n = (JSON.parse(l) as { n: number }).n;
      assert.ok(n > last);
      last = n;
    }
  });
});
