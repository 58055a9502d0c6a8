/**
 * Package-name globs: `*` matches within the scope or the name (never across `/`), `**` matches
 * anything. `@acme/*` is every package of the @acme scope; `**` is every package.
 */
export type NameMatcher = (name: string) => boolean;

const SPECIAL = /[.+?^${}()|[\]\\]/g;

export function compileGlob(glob: string): NameMatcher {
  if (glob === '**') return () => true;
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (ch === '*') {
      source += '[^/]*';
    } else {
      source += ch.replace(SPECIAL, '\\$&');
    }
  }
  const re = new RegExp(`^${source}$`);
  return (name) => re.test(name);
}

export function compileGlobs(globs: readonly string[]): NameMatcher {
  const matchers = globs.map(compileGlob);
  if (matchers.length === 1) return matchers[0]!;
  return (name) => {
    for (let i = 0; i < matchers.length; i++) if (matchers[i]!(name)) return true;
    return false;
  };
}
