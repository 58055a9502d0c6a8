// The results table: absolute figures, ratios to the limit, and the issue's targets.

const median = (xs) => {
  if (!xs || xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const spread = (xs) => (xs && xs.length > 1 ? `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}` : '');
const fmt = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–');
const verdict = (ok) => (ok === undefined ? '' : ok ? 'met' : 'MISSED');

export const TARGETS = {
  throughput: 0.8, // countersign rps ≥ 0.8 × limit
  p99: 1.5, // countersign p99 ≤ 1.5 × limit
  cold: 2, // cold typescript ≤ 2 × JSON.parse + JSON.stringify
  install: 1.1, // npm install via warm countersign ≤ 1.1 × via the limit
  rssMB: 300,
};

export function printReport(results) {
  const { facts } = results;
  const out = [];
  const line = (s = '') => out.push(s);
  line(`## ${facts.date.slice(0, 10)} — ${facts.machine}, Node ${facts.node}, commit ${facts.commit}${facts.dirty ? ' (+ uncommitted src changes)' : ''}${facts.nodeFlags ? `; countersign runs as \`node ${facts.nodeFlags}\`` : ''}`);
  line();
  line(`\`${facts.command}\` — load average ${facts.loadavgStart} at start, ${facts.loadavgEnd ?? '?'} at end; recording of ${facts.recordedAt.slice(0, 10)}.`);
  line(`Logs: countersign ${facts.countersignLog}; Verdaccio ${facts.verdaccioLog}.${facts.pinned ? ` CPUs: ${facts.pinned}.` : ''}`);
  line();

  if (results.http.length > 0) {
    line('| warm scenario | conns | limit req/s | countersign req/s | Verdaccio req/s | cs/limit req/s | limit p99 ms | cs p99 ms | Verdaccio p99 ms | cs/limit p99 | cs/Verdaccio req/s | target |');
    line('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const row of results.http) {
      const { limit, countersign: cs, verdaccio: v } = row.results;
      const ok = limit && cs ? cs.rps >= TARGETS.throughput * limit.rps && cs.p99 <= TARGETS.p99 * limit.p99 : undefined;
      line(
        `| ${row.what} | ${row.connections} | ${fmt(limit?.rps)} | ${fmt(cs?.rps)} | ${fmt(v?.rps, v?.rps < 10 ? 1 : 0)} | ${ratio(cs?.rps, limit?.rps)} | ${fmt(limit?.p99, 1)} | ${fmt(cs?.p99, 1)} | ${fmt(v?.p99, 0)} | ${ratio(cs?.p99, limit?.p99)} | ${ratio(cs?.rps, v?.rps)} | ${verdict(ok)} |`,
      );
    }
    line();
    const sizes = results.http
      .map((row) => `${row.id}: ${Object.entries(row.results).map(([n, r]) => `${n} ${fmt(r.bytesPerResponse / 1000)} kB${r.errors + r.non2xx > 0 ? ` (${r.errors} errors, ${r.non2xx} non-2xx)` : ''}`).join(', ')}`)
      .join('; ');
    line(`<details><summary>bytes per response (headers included)</summary>\n\n${sizes}\n</details>`);
    line();
  }

  const { cold } = results;
  if (cold.jsonRoundtrip) {
    const base = cold.jsonRoundtrip.medianMs;
    const running = median(cold.samples.countersignRunning);
    const fresh = median(cold.samples.countersignFresh);
    const v = median(cold.samples.verdaccioRunning);
    line('| cold `typescript` packument, first request | median ms | range | ÷ JSON.parse+stringify | target |');
    line('| --- | ---: | ---: | ---: | --- |');
    line(`| JSON.parse + JSON.stringify of the same ${(cold.jsonRoundtrip.bytes / 1e6).toFixed(1)} MB, one process | ${fmt(base)} | ${spread(cold.jsonRoundtrip.runsMs)} | 1.00× | |`);
    line(`| countersign, running server (served express and react before) | ${fmt(running)} | ${spread(cold.samples.countersignRunning)} | ${ratio(running, base)} | ${verdict(running <= TARGETS.cold * base)} |`);
    line(`| countersign, first request of a fresh process | ${fmt(fresh)} | ${spread(cold.samples.countersignFresh)} | ${ratio(fresh, base)} | ${verdict(fresh <= TARGETS.cold * base)} |`);
    if (cold.samples.countersignRestarted?.length) {
      const restarted = median(cold.samples.countersignRestarted);
      line(`| countersign, restarted on the same data dir (signatures known from the ledger; not the target's case) | ${fmt(restarted)} | ${spread(cold.samples.countersignRestarted)} | ${ratio(restarted, base)} | |`);
    }
    line(`| Verdaccio, running server | ${fmt(v)} | ${spread(cold.samples.verdaccioRunning)} | ${ratio(v, base)} | |`);
    line();
  }

  const { install } = results;
  if (install.times) {
    const m = Object.fromEntries(Object.entries(install.times).map(([k, t]) => [k, median(t)]));
    line(`| \`npm install\`, ~240 packages, fresh npm cache (median of ${Object.values(install.times)[0].length}) | median s | range s | ÷ limit | target |`);
    line('| --- | ---: | ---: | ---: | --- |');
    for (const [mode, t] of Object.entries(install.times)) {
      const target = mode === 'countersign warm' ? verdict(m[mode] <= TARGETS.install * m.limit) : '';
      const range = t.length > 1 ? `${Math.min(...t).toFixed(2)}–${Math.max(...t).toFixed(2)}` : '';
      line(`| ${mode}${mode === 'npm cache only' ? ' (warm npm cache, --prefer-offline, no proxy)' : ''} | ${fmt(m[mode], 2)} | ${range} | ${ratio(m[mode], m.limit)} | ${target} |`);
    }
    line();
  }

  if (Object.keys(results.memory).length > 0) {
    const cs = results.memory.countersign;
    const peaks = [cs?.peakMB, cold.countersignPeakMB, install.coldPeakMB].filter(Number.isFinite);
    const csPeak = peaks.length ? Math.max(...peaks) : NaN;
    line('| resident memory | after the run MB | peak MB | target |');
    line('| --- | ---: | ---: | --- |');
    for (const [name, mem] of Object.entries(results.memory)) {
      const peak = name === 'countersign' ? csPeak : mem.peakMB;
      const ok = name === 'countersign' ? mem.rssMB <= TARGETS.rssMB && peak <= TARGETS.rssMB : undefined;
      line(`| ${name}${name === 'countersign' ? ' (peak over every countersign process of the run)' : ''} | ${fmt(mem.rssMB)} | ${fmt(peak)} | ${verdict(ok)} |`);
    }
    line();
  }
  if (facts.before) printBeforeAfter(results, line);
  return out.join('\n');
}

/** With COUNTERSIGN_CLI_B: the other build ("before") beside this one ("after"), each as a ratio to the limit. */
function printBeforeAfter(results, line) {
  line(`Before/after in the same run — ${results.facts.before}:`);
  line();
  line('| scenario | conns | before req/s | after req/s | before ÷ limit | after ÷ limit | before p99 ms | after p99 ms |');
  line('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of results.http) {
    const { limit, countersign: after, 'countersign-b': before } = row.results;
    if (!before || !after) continue;
    line(`| ${row.what} | ${row.connections} | ${fmt(before.rps)} | ${fmt(after.rps)} | ${ratio(before.rps, limit?.rps)} | ${ratio(after.rps, limit?.rps)} | ${fmt(before.p99, 1)} | ${fmt(after.p99, 1)} |`);
  }
  const { cold, install, memory } = results;
  if (cold.samples?.bRunning) {
    const base = cold.jsonRoundtrip.medianMs;
    for (const [what, b, a] of [['cold typescript, running server', cold.samples.bRunning, cold.samples.countersignRunning], ['cold typescript, fresh process', cold.samples.bFresh, cold.samples.countersignFresh]]) {
      line(`| ${what} (ms; ÷ JSON round trip) | | ${fmt(median(b))} | ${fmt(median(a))} | ${ratio(median(b), base)} | ${ratio(median(a), base)} | | |`);
    }
  }
  if (install.times?.['countersign-b warm']) {
    const limit = median(install.times.limit);
    const b = median(install.times['countersign-b warm']);
    const a = median(install.times['countersign warm']);
    line(`| npm install, warm proxy (s; ÷ limit) | | ${fmt(b, 2)} | ${fmt(a, 2)} | ${ratio(b, limit)} | ${ratio(a, limit)} | | |`);
  }
  if (memory['countersign-b'] && memory.countersign) {
    line(`| resident memory after the run (MB) | | ${fmt(memory['countersign-b'].rssMB)} | ${fmt(memory.countersign.rssMB)} | | | | |`);
    line(`| peak resident memory of the long-running process (MB) | | ${fmt(memory['countersign-b'].peakMB)} | ${fmt(memory.countersign.peakMB)} | | | | |`);
  }
  line();
}
