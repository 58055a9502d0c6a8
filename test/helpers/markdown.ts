export interface Heading {
  /** 0-based line number. */
  readonly line: number;
  readonly level: number;
  readonly text: string;
  /** The anchor GitHub gives it. */
  readonly anchor: string;
}

/**
 * The headings of a Markdown document with the anchors GitHub gives them: lower case, punctuation
 * dropped (letters, digits, spaces, `-` and `_` stay), spaces turned into `-`, and `-1`, `-2`
 * appended to repeats. Lines inside fenced code blocks are not headings.
 */
export function markdownHeadings(markdown: string): Heading[] {
  const headings: Heading[] = [];
  const seen = new Map<string, number>();
  let fence: string | undefined;
  markdown.split('\n').forEach((line, index) => {
    const fenceMatch = /^\s*(```|~~~)/.exec(line);
    if (fenceMatch) {
      if (fence === undefined) fence = fenceMatch[1];
      else if (fence === fenceMatch[1]) fence = undefined;
      return;
    }
    if (fence !== undefined) return;
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) return;
    const text = heading[2]!;
    const base = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    headings.push({ line: index, level: heading[1]!.length, text, anchor: count === 0 ? base : `${base}-${count}` });
  });
  return headings;
}

export function markdownAnchors(markdown: string): Set<string> {
  return new Set(markdownHeadings(markdown).map((h) => h.anchor));
}

/** The text under the heading with this anchor, up to the next heading of the same or a higher level. */
export function markdownSection(markdown: string, anchor: string): string | undefined {
  const headings = markdownHeadings(markdown);
  const at = headings.findIndex((h) => h.anchor === anchor);
  if (at === -1) return undefined;
  const start = headings[at]!;
  const next = headings.slice(at + 1).find((h) => h.level <= start.level);
  return markdown.split('\n').slice(start.line + 1, next ? next.line : undefined).join('\n');
}
