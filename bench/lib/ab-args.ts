// Command line of the A/B tools (rules-ab, kernel-ab): two builds, then `--name value` options.

/** The value after `--name` on the command line, or `fallback`. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** The two builds A and B (the first two arguments); prints `usage` and exits 2 without them. */
export function abSides(usage: string): [string, string] {
  const [a, b] = process.argv.slice(2, 4);
  if (!a || !b || a.startsWith('--') || b.startsWith('--')) {
    process.stderr.write(`usage: ${usage}\n`);
    process.exit(2);
  }
  return [a, b];
}
