/** `${VAR}` and `${VAR:-fallback}` in config strings, expanded from the environment. */

const VAR_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export class MissingEnvError extends Error {
  constructor(readonly variable: string) {
    super(`environment variable ${variable} is not set (write \${${variable}:-} to make it optional)`);
  }
}

export function expandEnv(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(VAR_RE, (_match, name: string, fallback: string | undefined) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    throw new MissingEnvError(name);
  });
}
