// The Helm chart, on machines without helm.
//
// Checked here, always:
// - values.yaml and the examples validate against values.schema.json (ajv, draft-07, as Helm
//   validates the merged values), unknown keys and bad policy values are rejected, and the
//   schema's copy of config/schema.json is in step (scripts/chart-schema.mjs --check);
// - values.yaml documents every key;
// - every template renders (test/helpers/helm-template.ts, a renderer for the subset of Go
//   templates and Sprig the chart uses) to YAML that parses, for the defaults, the examples and
//   a values set that turns every optional resource on; the rendered objects are then checked
//   against each other and against the rest of the repository: the ConfigMap's config.yaml loads
//   with countersign's own config loader, tokens in the Secret are the variables the config reads,
//   probes hit what countersign answers as /healthz and /readyz, the user and paths match the
//   Dockerfile, selectors match labels, the grace periods fit, the PrometheusRule and the
//   dashboard ConfigMap hold the very files promtool and the metrics test check;
// - values that cannot work together fail to render with a message.
// Checked only when a helm binary is on PATH (skipped with a reason otherwise): `helm lint
// --strict` and `helm template` with the same values sets, whose output must equal what the
// renderer above produced. Never checked here: the Kubernetes API's own validation of the objects
// (no cluster, no kubeconform in Debian or npm), and the Sprig functions the chart does not use.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { isMap, isSeq, parse, parseAllDocuments, parseDocument, stringify, type YAMLMap } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { parseDuration, parseSize } from '../../src/config/units.js';
import { isOpsRequest } from '../../src/server/routes/ops.js';
import { envOf, parseDockerfile } from '../helpers/dockerfile.js';
import { markdownSection } from '../helpers/markdown.js';
import { mergeValues, renderChart, type Rendered } from '../helpers/helm-template.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const chartDir = join(root, 'helm', 'countersign');
const readYaml = (path: string): unknown => parse(readFileSync(path, 'utf8'));

type Obj = Rendered['objects'][number];
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- rendered Kubernetes objects

const defaults = readYaml(join(chartDir, 'values.yaml')) as Json;
const examples = Object.fromEntries(
  readdirSync(join(chartDir, 'examples'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => [f, readYaml(join(chartDir, 'examples', f)) as Json]),
);

/** Every optional resource on, persistence off, strict network policy: the templates' other branches. */
const everything: Json = {
  replicaCount: 2,
  fullnameOverride: 'npm-countersign',
  commonLabels: { team: 'platform' },
  commonAnnotations: { owner: 'platform@acme.example' },
  image: { registry: '', repository: 'registry.acme.internal/countersign', digest: `sha256:${'a'.repeat(64)}`, pullSecrets: ['acme-registry'] },
  auth: { adminToken: 'admin-secret', upstreamTokens: { 'acme-internal': 'internal-secret' } },
  config: {
    upstreams: { 'acme-internal': { url: 'https://npm.acme.internal/' } },
    rules: [{ match: ['@acme/*'], mode: 'fast', upstream: 'acme-internal' }, { match: ['**'], upstream: 'npmjs' }],
  },
  extraEnvVars: [{ name: 'HTTPS_PROXY', value: 'http://proxy.acme.internal:3128' }],
  service: { type: 'LoadBalancer', nodePorts: { http: 30874 }, loadBalancerSourceRanges: ['10.0.0.0/8'], annotations: { 'lb.example/internal': 'true' } },
  ingress: { enabled: true, ingressClassName: 'nginx', hostname: 'npm.acme.example', tls: true, annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '16m' } },
  persistence: { enabled: false },
  podLabels: { tier: 'registry' },
  podAnnotations: { 'example/annotation': 'x' },
  priorityClassName: 'high',
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'registry', effect: 'NoSchedule' }],
  affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } },
  topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'countersign' } } }],
  serviceAccount: { annotations: { 'iam.example/role': 'countersign' } },
  pdb: { minAvailable: 1 },
  networkPolicy: {
    allowExternal: false,
    allowExternalEgress: false,
    ingressNSMatchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' },
    ingressNSPodMatchLabels: { 'app.kubernetes.io/name': 'ingress-nginx' },
    metrics: { namespaceSelector: { 'kubernetes.io/metadata.name': 'monitoring' }, podSelector: { 'app.kubernetes.io/name': 'prometheus' } },
    extraEgress: [{ to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [{ port: 443, protocol: 'TCP' }] }],
  },
  metrics: {
    serviceMonitor: { enabled: true, labels: { release: 'prom' }, relabelings: [{ action: 'labeldrop', regex: 'pod' }] },
    prometheusRule: { enabled: true, labels: { release: 'prom' } },
    dashboard: { enabled: true, namespace: 'grafana', annotations: { grafana_folder: 'Supply chain' } },
  },
};

/** The values sets every check runs on: name → user values (what -f and --set give helm). */
const scenarios: Record<string, Json> = {
  defaults: {},
  ...Object.fromEntries(Object.entries(examples).map(([file, values]) => [`examples/${file}`, values])),
  // internal-scope.yaml's token comes from --set, as its header says.
  'examples/internal-scope.yaml + --set token': mergeValues(examples['internal-scope.yaml'], { auth: { upstreamTokens: { internal: 't0ken' } } }) as Json,
  everything,
};

function render(values: Json, namespace = 'registry'): Rendered {
  return renderChart(chartDir, { values, releaseName: 'countersign', namespace });
}

function find(objects: Obj[], kind: string, predicate: (o: Json) => boolean = () => true): Json[] {
  return objects.filter((o) => o.kind === kind && predicate(o as Json)) as Json[];
}

function one(objects: Obj[], kind: string, predicate?: (o: Json) => boolean): Json {
  const found = find(objects, kind, predicate);
  assert.equal(found.length, 1, `expected one ${kind}, found ${found.length}`);
  return found[0]!;
}

function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** Kubernetes quantities in bytes, for the few suffixes we use. */
function quantityBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(q);
  assert.ok(m, `unreadable quantity ${q}`);
  const factor: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? factor[m[2]]! : 1);
}

function schemaValidator() {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  return ajv.compile(JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as object);
}

describe('Helm chart: values and schema', () => {
  const validate = schemaValidator();
  const check = (user: Json) => {
    const ok = validate(mergeValues(defaults, user));
    return { ok, errors: (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`) };
  };

  it('accepts values.yaml and every example', () => {
    assert.ok(Object.keys(examples).length >= 3);
    for (const [name, values] of Object.entries(scenarios)) {
      const result = check(values);
      assert.ok(result.ok, `${name}: ${result.errors.join('\n')}`);
    }
  });

  const rejected: Array<[string, Json, RegExp]> = [
    ['an unknown top-level key', { replicas: 2 }, /additionalProperty.*replicas/],
    ['an unknown nested key', { persistence: { sise: '10Gi' } }, /\/persistence .*sise/],
    ['a typo in a policy rule', { config: { rules: [{ match: ['**'], mdoe: 'fast' }] } }, /\/config\/rules\/0 .*mdoe/],
    ['an unknown config section', { config: { trusts: {} } }, /\/config .*trusts/],
    ['a duration that does not parse', { config: { packuments: { maxAge: '5 minutes' } } }, /\/config\/packuments\/maxAge/],
    ['a size that does not parse', { config: { tarballs: { diskCache: 'ten gigs' } } }, /\/config\/tarballs\/diskCache/],
    ['server.port, which the chart sets', { config: { server: { port: 8080 } } }, /\/config\/server .*port/],
    ['a bad pull policy', { image: { pullPolicy: 'Sometimes' } }, /\/image\/pullPolicy/],
    ['a privileged port', { containerPorts: { http: 80 } }, /\/containerPorts\/http/],
    ['an upstream token under a bad name', { auth: { upstreamTokens: { 'bad name': 'x' } } }, /\/auth\/upstreamTokens/],
  ];
  for (const [what, values, expected] of rejected) {
    it(`rejects ${what}`, () => {
      const result = check(values);
      assert.equal(result.ok, false, 'accepted');
      assert.ok(result.errors.some((e) => expected.test(e)), result.errors.join('\n'));
    });
  }

  it('accepts the values shown in the README', () => {
    const section = markdownSection(readFileSync(join(root, 'README.md'), 'utf8'), 'install-with-helm');
    assert.ok(section, 'README has no "Install with Helm" section');
    const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1]!) as Json);
    assert.ok(blocks.length >= 2);
    for (const block of blocks) {
      const result = check(block);
      assert.ok(result.ok, `${JSON.stringify(block).slice(0, 80)}: ${result.errors.join('\n')}`);
      assert.doesNotThrow(() => render(block));
    }
  });

  it('accepts ${VAR} references where countersign expands them', () => {
    const result = check({ config: { upstreams: { mirror: { url: '${MIRROR_URL}' } }, packuments: { maxAge: '${MAX_AGE:-5m}' } } });
    assert.ok(result.ok, result.errors.join('\n'));
  });

  it('holds config/schema.json as it is now (scripts/chart-schema.mjs --check)', () => {
    const result = spawnSync(process.execPath, [join(root, 'scripts', 'chart-schema.mjs'), '--check'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  });

  it('documents every key of values.yaml', () => {
    const doc = parseDocument(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));
    const undocumented: string[] = [];
    const visit = (map: YAMLMap, path: string) => {
      map.items.forEach((pair, i) => {
        const key = String((pair.key as { value: unknown }).value);
        const comment = (pair.key as { commentBefore?: string }).commentBefore ?? (i === 0 ? map.commentBefore : undefined);
        if (!comment?.trim()) undocumented.push(`${path}${key}`);
        if (isMap(pair.value)) visit(pair.value, `${path}${key}.`);
        // Items of lists (config.rules) are examples of their documented key, not keys.
        else if (!isSeq(pair.value) && pair.value !== null && typeof pair.value === 'object' && 'items' in pair.value) undocumented.push(`${path}${key} (unexpected node)`);
      });
    };
    assert.ok(isMap(doc.contents));
    visit(doc.contents as YAMLMap, '');
    assert.deepEqual(undocumented, []);
  });

  it('has Chart.yaml for this countersign', () => {
    const chart = readYaml(join(chartDir, 'Chart.yaml')) as Json;
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.name, 'countersign');
    assert.equal(chart.appVersion, pkg.version);
    assert.match(String(chart.version), /^\d+\.\d+\.\d+$/);
  });
});

describe('Helm chart: rendered manifests', () => {
  const rendered = Object.fromEntries(Object.entries(scenarios).map(([name, values]) => [name, render(values)]));
  const dockerRuntime = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8')).stages.at(-1)!;
  const imageEnv = envOf(dockerRuntime);
  const imageUser = /^USER\s+(\d+):(\d+)/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))!;

  it('renders every template in some scenario, each object named and namespaced', () => {
    const templates = readdirSync(join(chartDir, 'templates'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.yaml'))
      .map((e) => `countersign/templates/${join(e.parentPath, e.name).slice(join(chartDir, 'templates').length + 1)}`);
    const seen = new Set(Object.values(rendered).flatMap((r) => [...r.files.keys()]));
    assert.deepEqual(templates.filter((t) => !seen.has(t)), [], 'templates that never rendered');
    for (const [name, r] of Object.entries(rendered)) {
      for (const o of r.objects) {
        assert.ok(typeof o.apiVersion === 'string' && o.kind && o.metadata.name, `${name}: ${JSON.stringify(o).slice(0, 80)}`);
        assert.match(o.metadata.name, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, `${name}: ${o.kind} name`);
        assert.ok(typeof o.metadata.namespace === 'string', `${name}: ${o.kind}/${o.metadata.name} has no namespace`);
      }
      const keys = r.objects.map((o) => `${o.kind}/${o.metadata.name}`);
      assert.equal(new Set(keys).size, keys.length, `${name}: duplicate objects ${keys.join(', ')}`);
      assert.match(r.notes, /registry=http/);
    }
  });

  it('creates what the issue asks for when everything is on', () => {
    const kinds = rendered.everything!.objects.map((o) => o.kind).sort();
    assert.deepEqual(kinds, ['ConfigMap', 'ConfigMap', 'Ingress', 'NetworkPolicy', 'Pod', 'PodDisruptionBudget', 'PrometheusRule', 'Secret', 'Service', 'Service', 'ServiceAccount', 'ServiceMonitor', 'StatefulSet']);
    const defaultKinds = rendered.defaults!.objects.map((o) => o.kind).sort();
    assert.deepEqual(defaultKinds, ['ConfigMap', 'NetworkPolicy', 'Pod', 'PodDisruptionBudget', 'Service', 'Service', 'ServiceAccount', 'StatefulSet']);
  });

  it('renders a config.yaml that countersign itself loads, with tokens read from the Secret\'s variables', () => {
    for (const [name, r] of Object.entries(rendered)) {
      const configMap = one(r.objects, 'ConfigMap', (o) => o.data?.['config.yaml'] !== undefined);
      const text = configMap.data['config.yaml'] as string;
      const doc = parse(text) as Json;
      const secret = find(r.objects, 'Secret')[0];
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries((secret?.data ?? {}) as Record<string, string>)) env[key] = Buffer.from(value, 'base64').toString('utf8');
      const config = parseConfig(text, `${name}: config.yaml`, { env, cwd: '/' });
      assert.equal(config.server.host, '0.0.0.0');
      assert.equal(config.server.dataDir, '/data');
      for (const [upstreamName, upstream] of Object.entries(doc.upstreams as Record<string, { token?: string }>)) {
        const variable = `COUNTERSIGN_UPSTREAM_${upstreamName.toUpperCase().replace(/-/g, '_')}_TOKEN`;
        assert.equal(upstream.token, `\${${variable}:-}`, `${name}: upstream ${upstreamName}'s token`);
        assert.equal(config.upstreams.get(upstreamName)!.token, env[variable], `${name}: upstream ${upstreamName} gets its token from the Secret`);
      }
      if (secret) {
        for (const key of Object.keys(secret.data as object)) assert.match(key, /^COUNTERSIGN_(ADMIN_TOKEN|UPSTREAM_[A-Z0-9_]+_TOKEN)$/, `${name}: Secret key ${key}`);
      }
    }
    const everythingConfig = parse(one(rendered.everything!.objects, 'ConfigMap', (o) => o.data?.['config.yaml']).data['config.yaml'] as string) as Json;
    assert.equal(everythingConfig.server.publicUrl, 'https://npm.acme.example/', 'publicUrl follows the ingress');
    const secret = one(rendered.everything!.objects, 'Secret');
    assert.deepEqual(Object.keys(secret.data as object).sort(), ['COUNTERSIGN_ADMIN_TOKEN', 'COUNTERSIGN_UPSTREAM_ACME_INTERNAL_TOKEN']);
  });

  it('runs the image as built: its user, config path, data dir and port', () => {
    for (const [name, r] of Object.entries(rendered)) {
      const sts = one(r.objects, 'StatefulSet');
      const pod = sts.spec.template.spec;
      const container = pod.containers[0];
      const env = Object.fromEntries((container.env as Array<{ name: string; value?: string }>).map((e) => [e.name, e.value]));
      assert.equal(env.COUNTERSIGN_CONFIG, imageEnv.get('COUNTERSIGN_CONFIG'), name);
      assert.equal(env.COUNTERSIGN_DATA_DIR, imageEnv.get('COUNTERSIGN_DATA_DIR'), name);
      const mounts = Object.fromEntries((container.volumeMounts as Array<{ name: string; mountPath: string; readOnly?: boolean }>).map((m) => [m.mountPath, m]));
      assert.equal(`${mounts['/etc/countersign']?.mountPath}/config.yaml`, env.COUNTERSIGN_CONFIG);
      assert.equal(mounts['/etc/countersign']!.readOnly, true);
      assert.ok(mounts['/data'] && mounts['/tmp'], `${name}: /data and /tmp are volumes`);
      const volumes = new Set([...(pod.volumes as Array<{ name: string }>).map((v) => v.name), ...((sts.spec.volumeClaimTemplates ?? []) as Json[]).map((c) => c.metadata.name)]);
      for (const mount of Object.values(mounts)) assert.ok(volumes.has(mount.name), `${name}: volume ${mount.name} is not defined`);
      const configVolume = (pod.volumes as Json[]).find((v) => v.name === mounts['/etc/countersign']!.name)!;
      assert.equal(configVolume.configMap.name, one(r.objects, 'ConfigMap', (o) => o.data?.['config.yaml']).metadata.name);
      assert.equal(container.securityContext.runAsUser, Number(imageUser[1]), `${name}: the image's uid`);
      assert.equal(container.securityContext.runAsGroup, Number(imageUser[2]), `${name}: the image's gid`);
      const config = parse(one(r.objects, 'ConfigMap', (o) => o.data?.['config.yaml']).data['config.yaml'] as string) as Json;
      assert.equal(container.ports[0].containerPort, config.server.port);
      assert.equal(container.ports[0].name, 'http');
    }
  });

  it('locks the container down: non-root, read-only root, no capabilities, seccomp, no token', () => {
    for (const [name, r] of Object.entries(rendered)) {
      for (const podSpec of [one(r.objects, 'StatefulSet').spec.template.spec, one(r.objects, 'Pod').spec]) {
        assert.equal(podSpec.securityContext.runAsNonRoot, true, name);
        assert.equal(podSpec.securityContext.seccompProfile.type, 'RuntimeDefault', name);
        assert.equal(podSpec.automountServiceAccountToken, false, name);
        const sc = podSpec.containers[0].securityContext;
        assert.deepEqual(
          { runAsNonRoot: sc.runAsNonRoot, readOnlyRootFilesystem: sc.readOnlyRootFilesystem, allowPrivilegeEscalation: sc.allowPrivilegeEscalation, privileged: sc.privileged, drop: sc.capabilities.drop, seccomp: sc.seccompProfile.type },
          { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, drop: ['ALL'], seccomp: 'RuntimeDefault' },
          name,
        );
        assert.ok(podSpec.containers[0].resources.limits.memory, `${name}: a memory limit`);
      }
    }
  });

  it('probes /healthz and /readyz with requests countersign answers as the endpoints, not as packages', () => {
    const container = one(rendered.defaults!.objects, 'StatefulSet').spec.template.spec.containers[0];
    const probes = { startupProbe: '/healthz', livenessProbe: '/healthz', readinessProbe: '/readyz' };
    for (const [probe, path] of Object.entries(probes)) {
      const get = container[probe].httpGet;
      assert.equal(get.path, path);
      assert.equal(get.port, 'http');
      // What the kubelet sends: its own headers, then the probe's (which win).
      const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.31', accept: '*/*' };
      for (const h of get.httpHeaders as Array<{ name: string; value: string }>) headers[h.name.toLowerCase()] = h.value;
      assert.ok(isOpsRequest(get.path, { headers } as unknown as IncomingMessage), `${probe} would be answered as the npm package ${path}`);
    }
  });

  it('fits the shutdown in the grace period, and the tarball cache in the volume', () => {
    for (const [name, values] of Object.entries(scenarios)) {
      const merged = mergeValues(defaults, values) as Json;
      const r = rendered[name]!;
      const pod = one(r.objects, 'StatefulSet').spec.template.spec;
      const preStop = Number(pod.containers[0].lifecycle?.preStop?.exec?.command?.[1] ?? 0);
      assert.equal(preStop, merged.preStopSleepSeconds);
      const grace = parseDuration(merged.config.server?.shutdownGrace ?? '10s') / 1000;
      assert.ok(pod.terminationGracePeriodSeconds > preStop + grace, `${name}: terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} <= preStop ${preStop} + shutdownGrace ${grace}`);
      const claim = (one(r.objects, 'StatefulSet').spec.volumeClaimTemplates ?? [])[0] as Json | undefined;
      if (claim) {
        const disk = parseSize(merged.config.tarballs?.diskCache ?? '10GB');
        assert.ok(disk <= 0.9 * quantityBytes(claim.spec.resources.requests.storage as string), `${name}: tarballs.diskCache ${disk} does not fit in ${claim.spec.resources.requests.storage} with room for the trust store`);
      }
    }
  });

  it('wires selectors, ports and names together', () => {
    for (const [name, r] of Object.entries(rendered)) {
      const sts = one(r.objects, 'StatefulSet');
      const podLabels = sts.spec.template.metadata.labels as Record<string, string>;
      assert.ok(selects(sts.spec.selector.matchLabels, podLabels), `${name}: StatefulSet selector`);
      const services = find(r.objects, 'Service');
      const headless = services.find((s) => s.spec.clusterIP === 'None')!;
      const main = services.find((s) => s.spec.clusterIP !== 'None')!;
      assert.equal(sts.spec.serviceName, headless.metadata.name);
      for (const service of services) {
        assert.ok(selects(service.spec.selector, podLabels), `${name}: ${service.metadata.name} selects the pods`);
        assert.equal(service.spec.ports[0].targetPort, 'http');
      }
      assert.ok(selects(one(r.objects, 'PodDisruptionBudget').spec.selector.matchLabels, podLabels));
      for (const policy of find(r.objects, 'NetworkPolicy')) assert.ok(selects(policy.spec.podSelector.matchLabels, podLabels));
      for (const monitor of find(r.objects, 'ServiceMonitor')) {
        const matched = services.filter((s) => selects(monitor.spec.selector.matchLabels, s.metadata.labels));
        assert.deepEqual(matched.map((s) => s.metadata.name), [main.metadata.name], `${name}: the ServiceMonitor scrapes each pod once, through ${main.metadata.name}`);
        assert.equal(monitor.spec.endpoints[0].port, 'http');
        assert.equal(monitor.spec.endpoints[0].path, '/-/metrics');
      }
      for (const ingress of find(r.objects, 'Ingress')) {
        const backend = ingress.spec.rules[0].http.paths[0].backend.service;
        assert.equal(backend.name, main.metadata.name);
        assert.equal(backend.port.name, 'http');
      }
      const sa = find(r.objects, 'ServiceAccount')[0];
      if (sa) assert.equal(sts.spec.template.spec.serviceAccountName, sa.metadata.name);
      const secret = find(r.objects, 'Secret')[0];
      const envFrom = (sts.spec.template.spec.containers[0].envFrom ?? []) as Json[];
      const existing = (mergeValues(defaults, scenarios[name]!) as Json).auth.existingSecret as string;
      const expected = secret ? [secret.metadata.name] : existing ? [existing] : [];
      assert.deepEqual(envFrom.map((e) => e.secretRef.name), expected, `${name}: envFrom`);
      // The helm test pod talks to the Service, on its port, and may pass the NetworkPolicy.
      const testPod = one(r.objects, 'Pod');
      assert.equal(testPod.metadata.annotations['helm.sh/hook'], 'test');
      const command = testPod.spec.containers[0].command as string[];
      assert.deepEqual(command.slice(0, 3), ['npm', 'ping', '--registry']);
      assert.equal(command[3], `http://${main.metadata.name}.registry.svc:${main.spec.ports[0].port}/`);
      for (const policy of find(r.objects, 'NetworkPolicy')) {
        const from = (policy.spec.ingress[0].from ?? []) as Json[];
        for (const peer of from) {
          assert.ok(Object.keys(peer).length > 0 && Object.values(peer).every((v) => v !== null && typeof v === 'object' && Object.keys(v as object).length > 0), `${name}: empty NetworkPolicy peer ${JSON.stringify(peer)}`);
        }
        const allowed = from.length === 0 || from.some((peer) => peer.podSelector && !peer.namespaceSelector && selects(peer.podSelector.matchLabels, testPod.metadata.labels));
        assert.ok(allowed, `${name}: the NetworkPolicy would block the test pod`);
      }
    }
  });

  it('rolls the pods when the config changes', () => {
    const checksum = (values: Json) => one(render(values).objects, 'StatefulSet').spec.template.metadata.annotations['checksum/config'];
    assert.equal(checksum({}), checksum({}));
    assert.notEqual(checksum({}), checksum({ config: { log: { level: 'debug' } } }));
  });

  it('ships the alert rules and the dashboard that the other tests check', () => {
    const r = rendered.everything!;
    const rule = one(r.objects, 'PrometheusRule');
    assert.deepEqual(rule.spec, readYaml(join(chartDir, 'alerts', 'countersign.rules.yaml')));
    assert.equal(rule.metadata.labels.release, 'prom');
    const dashboard = one(r.objects, 'ConfigMap', (o) => o.data?.['countersign.json'] !== undefined);
    assert.equal(dashboard.metadata.labels.grafana_dashboard, '1');
    assert.equal(dashboard.metadata.namespace, 'grafana');
    assert.equal(dashboard.metadata.annotations.grafana_folder, 'Supply chain');
    assert.deepEqual(JSON.parse(dashboard.data['countersign.json'] as string), JSON.parse(readFileSync(join(chartDir, 'dashboards', 'countersign.json'), 'utf8')));
  });

  const refused: Array<[string, Json, RegExp]> = [
    ['a shared existing claim', { replicaCount: 2, persistence: { existingClaim: 'data' } }, /existingClaim cannot be shared/],
    ['an existing secret and inline tokens', { auth: { existingSecret: 'mine', adminToken: 'x' } }, /put the tokens in that Secret/],
    ['a token for an upstream that does not exist', { auth: { upstreamTokens: { nope: 'x' } } }, /no upstream nope/],
  ];
  for (const [what, values, expected] of refused) {
    it(`refuses to render ${what}`, () => {
      assert.throws(() => render(values), expected);
    });
  }
});

describe('Helm chart: helm lint and helm template', () => {
  const helm = spawnSync('helm', ['version', '--short'], { encoding: 'utf8' });
  const available = helm.status === 0;
  const skip = available ? false : 'helm is not installed on this machine (no Debian or npm package ships it); the rendering above stands in for it';

  it('passes helm lint --strict with each values set', { skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-helm-'));
    try {
      for (const [name, values] of Object.entries(scenarios)) {
        const file = join(dir, 'values.yaml');
        writeFileSync(file, stringify(values));
        const lint = spawnSync('helm', ['lint', '--strict', chartDir, '-f', file], { encoding: 'utf8' });
        assert.equal(lint.status, 0, `${name}:\n${lint.stdout}${lint.stderr}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders with helm template exactly what the test renderer rendered', { skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-helm-'));
    try {
      for (const [name, values] of Object.entries(scenarios)) {
        const file = join(dir, 'values.yaml');
        writeFileSync(file, stringify(values));
        const out = spawnSync('helm', ['template', 'countersign', chartDir, '--namespace', 'registry', '-f', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        assert.equal(out.status, 0, `${name}:\n${out.stderr}`);
        const fromHelm = parseAllDocuments(out.stdout).map((d) => (Array.isArray(d) ? null : d.toJS())).filter((o) => o !== null) as Json[];
        const key = (o: Json) => `${o.kind}/${o.metadata.name}`;
        const sorted = (list: Json[]) => [...list].sort((a, b) => key(a).localeCompare(key(b)));
        assert.deepEqual(sorted(fromHelm), sorted(render(values).objects as Json[]), name);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
