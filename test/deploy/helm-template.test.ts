// The chart test's template renderer (test/helpers/helm-template.ts) against Go's text/template
// and Helm behaviour it claims to follow: if it drifted, the chart test would check the wrong thing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFloat, mergeValues, renderString } from '../helpers/helm-template.js';

describe('helm template renderer', () => {
  it('trims around {{- and -}}, and only with the space', () => {
    assert.equal(renderString('a  \n {{- "x" -}} \n  b'), 'axb');
    assert.equal(renderString('a {{ "x" }} b'), 'a x b');
    assert.equal(renderString('{{ 3 }} -{{- 4 }}'), '3 -4');
    assert.equal(renderString('{{-3}}'), '-3');
  });

  it('drops comments, which must close the action', () => {
    assert.equal(renderString('a {{/* note */}} b'), 'a  b');
    assert.equal(renderString('a\n{{- /* note */ -}}\nb'), 'ab');
    assert.throws(() => renderString('{{/* a */* b */}}'), /comment ends before closing delimiter/);
  });

  it('branches with if, else if and else, on Go truth', () => {
    const t = '{{ if .Values.a }}A{{ else if .Values.b }}B{{ else }}C{{ end }}';
    assert.equal(renderString(t, { a: 1 }), 'A');
    assert.equal(renderString(t, { a: 0, b: 'x' }), 'B');
    assert.equal(renderString(t, { a: {}, b: [] }), 'C');
    assert.equal(renderString(t, {}), 'C');
  });

  it('ranges over lists and over maps in key order, with else for empty ones', () => {
    assert.equal(renderString('{{ range $i, $v := .Values.l }}{{ $i }}={{ $v }};{{ end }}', { l: ['a', 'b'] }), '0=a;1=b;');
    assert.equal(renderString('{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}', { m: { z: 1, a: 2 } }), 'a=2;z=1;');
    assert.equal(renderString('{{ range .Values.l }}x{{ else }}empty{{ end }}', { l: [] }), 'empty');
    assert.equal(renderString('{{ with .Values.m }}{{ .k }}{{ end }}', { m: { k: 'v' } }), 'v');
  });

  it('scopes variables to their block, and = assigns an outer one', () => {
    assert.equal(renderString('{{ $x := "a" }}{{ if true }}{{ $x = "b" }}{{ end }}{{ $x }}'), 'b');
    assert.throws(() => renderString('{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}'), /undefined variable "\$y"/);
    assert.equal(renderString('{{ range .Values.l }}{{ $.Values.p }}{{ . }}{{ end }}', { l: ['1', '2'], p: '-' }), '-1-2');
  });

  it('prints values as Helm does: numbers are float64', () => {
    assert.equal(renderString('{{ .Values.port }}', { port: 4874 }), '4874');
    assert.equal(renderString('{{ .Values.big }}', { big: 1000000 }), '1e+06');
    assert.equal(renderString('{{ .Values.f }}', { f: 1.5 }), '1.5');
    assert.equal(renderString('{{ .Values.missing }}', {}), '');
    assert.equal(formatFloat(123456), '123456');
    assert.equal(formatFloat(1234567), '1.234567e+06');
    assert.equal(formatFloat(0.00001), '1e-05');
    assert.throws(() => renderString('{{ .Values.m }}', { m: { a: 1 } }), /printing a map/);
  });

  it('refuses what Helm refuses: float against int, fields of nil, unknown functions', () => {
    assert.throws(() => renderString('{{ if gt .Values.n 1 }}x{{ end }}', { n: 2 }), /incompatible types for comparison/);
    assert.equal(renderString('{{ if gt (int .Values.n) 1 }}x{{ end }}', { n: 2 }), 'x');
    assert.throws(() => renderString('{{ .Values.a.b }}', {}), /nil pointer evaluating interface \{\}\.b/);
    assert.throws(() => renderString('{{ nosuchfunc 1 }}'), /function "nosuchfunc" not defined/);
    assert.throws(() => renderString('{{ required "need x" .Values.x }}', {}), /need x/);
  });

  it('runs pipelines, parentheses, short-circuit and/or, define and include', () => {
    assert.equal(renderString('{{ printf "%s-%s" "a" "b" | upper | quote }}'), '"A-B"');
    assert.equal(renderString('{{ if and false (fail "evaluated") }}x{{ else }}y{{ end }}'), 'y');
    assert.equal(renderString('{{ or .Values.a "dflt" }}', {}), 'dflt');
    const defines = '{{- define "lbl" -}}\na: {{ .x }}\nb: 2\n{{- end -}}';
    assert.equal(renderString('m:\n  {{- include "lbl" (dict "x" "1") | nindent 2 }}', {}, defines), 'm:\n  a: 1\n  b: 2');
    assert.equal(renderString('{{ toYaml .Values.m }}', { m: { b: [1, 'x'], a: true } }), 'a: true\nb:\n  - 1\n  - x');
    assert.equal(renderString('{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ hasKey $d "b" }} {{ len $d }}'), 'true 2');
    assert.equal(renderString('{{ omit .Values.m "enabled" | toYaml }}', { m: { enabled: true, x: 1 } }), 'x: 1');
  });

  it('merges user values as Helm does: maps merge, lists replace, null deletes', () => {
    const merged = mergeValues({ a: { x: 1, y: 2 }, l: [1, 2], d: 'keep', gone: { z: 1 } }, { a: { y: 3 }, l: [9], gone: null });
    assert.deepEqual(merged, { a: { x: 1, y: 3 }, l: [9], d: 'keep' });
  });
});
