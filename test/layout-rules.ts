// The import walls of README.md "## Layout", as a checker: the table's "may import" column is
// the rule, every import / export-from / dynamic import of every .ts and .mjs file is held to it
// (test/layout.test.ts). Kept apart from the test so a unit case can feed it fake files.
import { builtinModules } from 'node:module';
import { posix } from 'node:path';

export interface Row {
  /** folder without the trailing slash, e.g. 'ree' or 'ree/node' */
  folder: string;
  /** 'all' for "everything"; else path prefixes this folder may import besides itself */
  allowed: 'all' | string[];
  /** the row says "no Node built-in": node: imports and Node globals (Buffer, process) refused */
  noNode: boolean;
  /** the row allows the package's own public entry points ('trusttap', 'trusttap/…') */
  packageEntries: boolean;
  /** the cell as written, quoted in violations */
  rule: string;
}

export interface Violation { file: string; specifier: string; rule: string; why: string }

export const PACKAGE_NAME = 'trusttap';

/** Rows of the "## Layout" table: | `folder/` | holds | may import |. `topLevel` is the set of
 * top-level names a path in a cell may start with (so `trusttap/qr` is not read as a folder). */
export function parseLayoutTable(readme: string, topLevel: ReadonlySet<string>): Row[] {
  const section = readme.split(/^## Layout\s*$/m)[1]?.split(/^## /m)[0];
  if (!section) throw new Error('README.md has no "## Layout" section');
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    const cells = line.trim().split('|').slice(1, -1).map((c) => c.trim());
    if (cells.length !== 3) continue;
    const folder = /^`([^`]+)\/`$/.exec(cells[0]!)?.[1];
    if (!folder) continue; // header and separator rows
    const cell = cells[2]!;
    const paths = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\/$/, ''))
      .filter((p) => /^[\w.-]+(\/[\w.-]+)*$/.test(p) && topLevel.has(p.split('/')[0]!));
    rows.push({
      folder,
      allowed: /\beverything\b/i.test(cell) ? 'all' : paths,
      noNode: /no Node built-in/i.test(cell),
      packageEntries: /public entry points/i.test(cell),
      rule: `${folder}/ may import: ${cell}`,
    });
  }
  if (!rows.length) throw new Error('the "## Layout" table has no rows');
  return rows;
}

// One left-to-right pass over the source: comments, template literals and string literals are
// skipped whole, so an import written inside a string or a comment is not one; what is left is
// the code, with the specifiers of its imports.
const TOKENS = new RegExp([
  /\/\*[\s\S]*?\*\//.source, // block comment
  /\/\/[^\n]*/.source, // line comment
  /`(?:[^`\\]|\\[\s\S])*`/.source, // template literal
  /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?(['"])([^'"\n]+)\1/.source, // import … from '…', export … from '…', import '…'
  String.raw`\bimport\(\s*(['"])([^'"\n]+)\3\s*\)`, // import('…'); \3: groups count across the alternatives
  /'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/.source, // string literal
].join('|'), 'g');

function scan(source: string): { specifiers: string[]; code: string } {
  const specifiers: string[] = [];
  const code = source.replace(TOKENS, (m, _q1, s1, _q2, s2) => {
    const spec = (s1 ?? s2) as string | undefined;
    if (spec !== undefined) { specifiers.push(spec); return ' '; }
    return m.startsWith('/') ? ' ' : "''";
  });
  return { specifiers, code };
}

/** The static specifiers of a module: import … from, export … from, import '…', import('…'). */
export const importSpecifiers = (source: string): string[] => scan(source).specifiers;

/** Node globals a browser or Hermes does not have, used in code (not in comments or strings). */
export function nodeGlobals(source: string): string[] {
  const { code } = scan(source);
  // `process` only as the object (process.env …), `require` only called: a card's process(apdu)
  // method is not Node's.
  const re = /(?<![\w$.])(?:(Buffer|__dirname|__filename)(?![\w$])|(process)(?=\s*[.[])|(require)(?=\s*\())/g;
  return [...new Set([...code.matchAll(re)].map((m) => (m[1] ?? m[2] ?? m[3])!))];
}

const builtins = new Set(builtinModules);
export const isNodeBuiltin = (s: string) => s.startsWith('node:') || builtins.has(s.split('/')[0]!);

/** The most specific row holding a repository path, if any. */
export function rowOf(rows: Row[], path: string): Row | undefined {
  return rows.filter((r) => path === r.folder || path.startsWith(r.folder + '/'))
    .sort((a, b) => b.folder.length - a.folder.length)[0];
}

const within = (path: string, prefix: string) => path === prefix || path.startsWith(prefix + '/');

/** Every import of `files` ({path relative to the repository, source}) the table does not allow. */
export function checkImports(rows: Row[], files: { path: string; source: string }[]): Violation[] {
  const out: Violation[] = [];
  for (const { path, source } of files) {
    const own = rowOf(rows, path);
    const isRoot = !path.includes('/');
    const rule = own?.rule ?? (isRoot ? 'files at the top of the repository (tool configuration) may import libraries only' : 'no row of the layout table holds this file');
    const flag = (specifier: string, why: string) => out.push({ file: path, specifier, rule, why });
    if (!own && !isRoot) { flag('-', 'the folder has no row in README.md "## Layout"'); continue; }
    for (const spec of importSpecifiers(source)) {
      if (!spec.startsWith('.')) {
        if (isNodeBuiltin(spec)) { if (own?.noNode) flag(spec, 'a Node built-in'); continue; }
        if (spec === PACKAGE_NAME || spec.startsWith(PACKAGE_NAME + '/')) {
          if (own && (own.allowed === 'all' || own.packageEntries)) continue;
          flag(spec, 'the package imports itself by name');
          continue;
        }
        continue; // a library
      }
      const target = posix.normalize(posix.join(posix.dirname(path), spec));
      if (target.startsWith('..')) { flag(spec, 'resolves outside the repository'); continue; }
      if (!own) { flag(spec, `imports ${target}`); continue; }
      if (own.allowed === 'all') continue;
      const theirs = rowOf(rows, target);
      if (!theirs) { flag(spec, `imports ${target}, which no row of the layout table holds`); continue; }
      if (theirs === own) continue;
      if (own.allowed.some((p) => within(target, p))) continue;
      flag(spec, `imports ${target} (row ${theirs.folder}/)`);
    }
    if (own?.noNode) for (const g of nodeGlobals(source)) flag(g, `uses the Node global ${g}`);
  }
  return out;
}

export const describeViolation = (v: Violation) => `${v.file}: '${v.specifier}' ${v.why} — rule: ${v.rule}`;
