import { DockerfileParser, type Cmd, type Copy, type Env, type From, type Instruction } from 'dockerfile-ast';

/**
 * The Dockerfile as stages of instructions, parsed with dockerfile-ast (the parser behind the
 * dockerfile-utils linter), with build ARGs resolved to their defaults. Enough for the checks a
 * generic linter does not make about *our* image (test/deploy/dockerfile.test.ts) and for the
 * production-install test to run the image's own command.
 */
export interface Stage {
  readonly name: string | null;
  /** The base image with ARG defaults substituted: `node:26-bookworm-slim`. */
  readonly image: string;
  readonly instructions: readonly Instruction[];
}

export interface ParsedDockerfile {
  readonly stages: readonly Stage[];
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const dockerfile = DockerfileParser.parse(text);
  const stages: Array<{ name: string | null; image: string; instructions: Instruction[] }> = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const from = instruction as From;
      // Expanded arguments: `node:${NODE_VERSION}-slim` with the ARG's default value put in.
      const image = from.getExpandedArguments()[0]?.getValue() ?? '';
      stages.push({ name: from.getBuildStage(), image, instructions: [] });
      continue;
    }
    stages.at(-1)?.instructions.push(instruction);
  }
  return { stages };
}

export function instructionsOf(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.getKeyword() === keyword);
}

/** `CMD ["a", "b"]` as its strings, or undefined for the shell form. */
export function execForm(instruction: Instruction): string[] | undefined {
  const json = (instruction as Cmd).getJSONStrings?.() ?? [];
  if (json.length === 0) return undefined;
  return json.map((s) => s.getJSONValue());
}

/** Every ENV of a stage, in order, later ones winning. */
export function envOf(stage: Stage): Map<string, string> {
  const env = new Map<string, string>();
  for (const instruction of instructionsOf(stage, 'ENV')) {
    for (const property of (instruction as Env).getProperties()) env.set(property.getName(), property.getValue() ?? '');
  }
  return env;
}

export function workdirOf(stage: Stage): string {
  const workdirs = instructionsOf(stage, 'WORKDIR');
  return workdirs.at(-1)?.getArgumentsContent() ?? '/';
}

/** `RUN` text with line continuations joined, for matching commands. */
export function runCommands(stage: Stage): string[] {
  return instructionsOf(stage, 'RUN').map((i) => (i.getRawArgumentsContent() ?? '').replace(/\\\r?\n/g, ' ').replace(/\s+/g, ' ').trim());
}

/** The `--from=stage` of a COPY, if any. */
export function copyFrom(instruction: Instruction): string | undefined {
  const flag = (instruction as Copy).getFromFlag?.();
  return flag?.getValue() ?? undefined;
}

const TOOLCHAIN = /(?:^|\s)(?:g\+\+|gcc|make|python3|build-essential|clang)(?=\s|$)/;

/**
 * What countersign's image must be, beyond what a generic linter checks. Returns one line per
 * problem; empty when the Dockerfile is as it should be.
 */
export function imagePolicyProblems(parsed: ParsedDockerfile): string[] {
  const problems: string[] = [];
  const { stages } = parsed;
  if (stages.length < 2) problems.push(`expected a multi-stage build, found ${stages.length} stage(s)`);
  const runtime = stages.at(-1);
  if (!runtime) return problems;

  for (const stage of stages) {
    const label = stage.name ?? stage.image;
    if (!stage.name) problems.push(`FROM ${stage.image}: every stage needs a name (FROM image AS name)`);
    const match = /^(?:[^/]+\/)?([^:@]+)(?::([^@]+))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(stage.image);
    if (!match) {
      problems.push(`stage ${label}: cannot read the image reference ${JSON.stringify(stage.image)}`);
      continue;
    }
    const [, , tag, digest] = match;
    if (!tag && !digest) problems.push(`stage ${label}: ${stage.image} has no tag: name the Node.js and Debian release (node:26-bookworm-slim)`);
    if (tag === 'latest' || tag?.includes('latest')) problems.push(`stage ${label}: ${stage.image} uses a "latest" tag`);
  }

  // Same base everywhere: the native addon is compiled against the glibc it later runs on.
  const bases = new Set(stages.map((s) => s.image));
  if (bases.size > 1) problems.push(`stages use different base images (${[...bases].join(', ')}); the native addon must be built on the runtime's libc`);

  const builder = stages.find((s) => runCommands(s).some((c) => /\bnpm ci\b.*--omit=dev/.test(c)));
  if (!builder) problems.push('no build stage runs the production install (npm ci --omit=dev)');
  else {
    if (builder === runtime) problems.push('the production install (npm ci --omit=dev) runs in the runtime stage: build it in a build stage and copy node_modules');
    if (!runCommands(builder).some((c) => /apt-get install\b.*\bpython3\b/.test(c) && /\bmake\b/.test(c) && /\bg\+\+/.test(c))) {
      problems.push(`stage ${builder.name}: better-sqlite3 is compiled there; install python3, make and g++ in it`);
    }
    const copiesModules = instructionsOf(runtime, 'COPY').some((c) => copyFrom(c) === builder.name && /node_modules/.test(c.getArgumentsContent() ?? ''));
    if (!copiesModules) problems.push(`the runtime stage does not copy node_modules from ${builder.name}`);
  }

  for (const command of runCommands(runtime)) {
    if (/\b(npm|pnpm|yarn) (ci|install|i|add)\b/.test(command)) problems.push(`the runtime stage installs packages (${command}); copy them from a build stage`);
    if (/apt-get install/.test(command) && TOOLCHAIN.test(command)) problems.push(`the runtime stage installs a toolchain (${command})`);
  }

  const users = instructionsOf(runtime, 'USER');
  const user = users.at(-1)?.getArgumentsContent()?.trim();
  if (!user) problems.push('the runtime stage has no USER: it would run as root');
  else {
    const numeric = /^(\d+)(?::(\d+))?$/.exec(user);
    if (!numeric) problems.push(`USER ${user}: use a numeric uid:gid, so that Kubernetes runAsNonRoot can verify it`);
    else if (numeric[1] === '0' || numeric[2] === '0') problems.push(`USER ${user}: runs as root`);
  }

  const cmds = instructionsOf(runtime, 'CMD');
  if (cmds.length !== 1) problems.push(`the runtime stage has ${cmds.length} CMD instructions, expected one`);
  for (const cmd of cmds) {
    if (!execForm(cmd)) problems.push(`CMD ${cmd.getArgumentsContent() ?? ''}: use the exec form (a JSON array), so that node is PID 1 and receives SIGTERM`);
  }
  for (const entrypoint of instructionsOf(runtime, 'ENTRYPOINT')) {
    if (!execForm(entrypoint)) problems.push('ENTRYPOINT in shell form: signals would go to /bin/sh, not node');
  }

  const env = envOf(runtime);
  if (env.get('COUNTERSIGN_CONFIG') !== '/etc/countersign/config.yaml') problems.push('ENV COUNTERSIGN_CONFIG must be /etc/countersign/config.yaml');
  if (env.get('COUNTERSIGN_DATA_DIR') !== '/data') problems.push('ENV COUNTERSIGN_DATA_DIR must be /data');
  if (env.get('NODE_ENV') !== 'production') problems.push('ENV NODE_ENV must be production');
  const exposed = instructionsOf(runtime, 'EXPOSE').flatMap((e) => (e.getArgumentsContent() ?? '').split(/\s+/));
  if (!exposed.includes('4874') && !exposed.includes('4874/tcp')) problems.push('EXPOSE 4874 is missing');
  const volumes = instructionsOf(runtime, 'VOLUME').map((v) => v.getArgumentsContent() ?? '');
  if (!volumes.some((v) => /(^|["\s[])\/data(["\s\]]|$)/.test(v))) problems.push('VOLUME /data is missing');
  return problems;
}

/**
 * Docker's .dockerignore semantics for the patterns we use: patterns in order, the last one that
 * matches a path or one of its parents wins, `!` re-includes; `*` and `?` stay within one path
 * segment, `**` crosses them.
 */
export function dockerignoreIncludes(dockerignore: string, path: string): boolean {
  const rules = dockerignore
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const pattern = (negated ? line.slice(1) : line).replace(/^\/+/, '').replace(/\/+$/, '');
      const source = pattern
        .split('/')
        .map((segment) => (segment === '**' ? '.*' : segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/');
      return { negated, regex: new RegExp(`^${source.replace(/\.\*\//g, '(?:.*/)?')}$`) };
    });
  const segments = path.split('/');
  const candidates = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
  let included = true;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.regex.test(candidate))) included = rule.negated;
  }
  return included;
}
