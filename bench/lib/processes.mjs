// Child processes of the benchmark: the systems under test, the fake upstream, the limit server.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `node <args>`; stdout and stderr go to `logFile` (the request log of a system under
 * test, as in production), or, with `firstLine`, the first stdout line is returned parsed as JSON
 * (the child's "ready" message).
 */
export async function startNode(name, args, { env = {}, logFile, firstLine = false, cwd } = {}) {
  // A system's request log goes straight from the child to the file (as a service's stdout would
  // to its log collector), never through this process, which is also the load generator.
  const logFd = logFile && !firstLine ? openSync(logFile, 'a') : undefined;
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', logFd ?? 'pipe', logFd ?? 'pipe'] });
  if (logFd !== undefined) closeSync(logFd);
  let stderr = logFd === undefined ? '' : `(stderr is in ${logFile})`;
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let ready;
  if (firstLine) {
    ready = await new Promise((resolve, reject) => {
      let buffered = '';
      const onData = (chunk) => {
        buffered += chunk;
        const nl = buffered.indexOf('\n');
        if (nl === -1) return;
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve(JSON.parse(buffered.slice(0, nl)));
      };
      child.stdout.on('data', onData);
      exited.then(({ code }) => reject(new Error(`${name} exited with ${code} before it was ready:\n${stderr}`)));
    });
  }
  return {
    name,
    pid: child.pid,
    ready,
    exited,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `url` until it answers 200 (or `timeoutMs` passes). */
export async function waitForHttp(url, timeoutMs = 60_000, headers = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resident memory now and its peak so far (the kernel's high-water mark), in MB. */
export async function memoryOf(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 };
}

/** CPU seconds `pid` has used so far, every thread of it (user + system, from /proc, 10 ms ticks). */
export async function cpuSecondsOf(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
