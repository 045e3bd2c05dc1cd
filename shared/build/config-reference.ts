/**
 * Generates the configuration reference of README.md from the config schema:
 * key paths, types and defaults come from the runtime zod schema (walked
 * through `.shape`, unwrapping optional/default/prefault/array/record), the
 * meaning from the TSDoc line of each field in shared/config/schema.ts.
 *
 *   node dist/shared/build/config-reference.js            print the table
 *   node dist/shared/build/config-reference.js --write    rewrite the README section
 *
 * test/unit/shared/config-reference.test.ts fails when README.md lacks a row.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import * as schemaModule from '../config/schema';

/** One row of the reference: a key path with its type, default and meaning. */
export interface ReferenceRow {
  readonly key: string;
  readonly type: string;
  readonly default: string;
  readonly meaning: string;
  /** The `@default` text of the TSDoc line, if any (checked against `default`). */
  readonly commentDefault?: string;
}

/** Repository root, seen from dist/shared/build or shared/build. */
export const REPO_ROOT = resolve(__dirname, __dirname.includes(`${join('dist', 'shared')}`) ? '../../..' : '../..');
/** Marker pair that encloses the reference in README.md. */
export const SECTION_OPEN = '<!-- section:config-reference -->';
export const SECTION_CLOSE = '<!-- /section:config-reference -->';

// zod 4 internals are typed loosely on purpose: only `_zod.def` is read.
type AnySchema = { _zod: { def: Record<string, any> } };
const def = (s: AnySchema) => s._zod.def;

/** Reads every TSDoc comment of schema.ts, keyed `ConstName` or `ConstName.a.b`. */
export function readSchemaDocs(files = SCHEMA_FILES): Map<string, string> {
  const docs = new Map<string, string>();
  for (const file of typeof files === 'string' ? [files] : files) readDocsOf(file, docs);
  return docs;
}

/** The files that hold schema objects: schema.ts and the edge schema (issue 12) it imports. */
export const SCHEMA_FILES: readonly string[] = [join(REPO_ROOT, 'shared', 'config', 'schema.ts'), join(REPO_ROOT, 'shared', 'config', 'edge-schema.ts')];

function readDocsOf(file: string, docs: Map<string, string>): void {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const docOf = (node: ts.Node) => ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc).map((d) => d.getText()).join('\n');
  const visit = (node: ts.Node, prefix: string): void => {
    if (ts.isCallExpression(node) && /\b(strictObject|object)$/.test(node.expression.getText()) && node.arguments[0] && ts.isObjectLiteralExpression(node.arguments[0])) {
      for (const prop of node.arguments[0].properties) {
        if (!ts.isPropertyAssignment(prop)) continue;
        const key = `${prefix}.${prop.name.getText()}`;
        docs.set(key, docOf(prop));
        visit(prop.initializer, key);
      }
      for (const rest of node.arguments.slice(1)) visit(rest, prefix);
      visit(node.expression, prefix);
      return;
    }
    ts.forEachChild(node, (child) => visit(child, prefix));
  };
  for (const stmt of src.statements) {
    if (!ts.isVariableStatement(stmt)) continue;
    for (const decl of stmt.declarationList.declarations) {
      const name = decl.name.getText();
      docs.set(name, docOf(stmt));
      if (decl.initializer) visit(decl.initializer, name);
    }
  }
}

/** Splits a raw `/** ... *\/` comment into its sentence and its `@default` text. */
export function parseDoc(raw: string): { text: string; defaultText?: string } {
  const body = raw.replace(/^\/\*\*|\*\/$/g, '').split('\n').map((l) => l.replace(/^\s*\*\s?/, '')).join(' ').replace(/\s+/g, ' ').trim();
  const at = body.indexOf('@default');
  const text = (at >= 0 ? body.slice(0, at) : body).trim();
  const defaultText = at >= 0 ? body.slice(at + '@default'.length).trim() : undefined;
  return { text, defaultText };
}

function bounds(s: AnySchema): string {
  let lo: string | undefined;
  let hi: string | undefined;
  for (const c of def(s).checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'greater_than') lo = d.inclusive ? `${d.value}` : `${d.value + 1}`;
    if (d.check === 'less_than' && d.value < Number.MAX_SAFE_INTEGER) hi = d.inclusive ? `${d.value}` : `${d.value - 1}`;
  }
  if (lo && hi) return ` ${lo}..${hi}`;
  if (lo) return ` >= ${lo}`;
  return '';
}

const plural = (t: string) => (/^(object|string|boolean)$/.test(t) ? `${t}s` : t);

/** A short human type name of a (fully unwrapped) schema. */
function typeName(s: AnySchema): string {
  const d = def(s);
  switch (d.type) {
    case 'string': return 'string';
    case 'boolean': return 'boolean';
    case 'number': return `${(d.checks ?? []).some((c: AnySchema) => def(c).format === 'safeint') ? 'integer' : 'number'}${bounds(s)}`;
    case 'enum': return Object.values(d.entries).map((v) => `\`${String(v)}\``).join(' \\| ');
    case 'literal': return d.values.map((v: unknown) => `\`${String(v)}\``).join(' \\| ');
    case 'union': return d.options.map(typeName).join(' \\| ');
    case 'object': return 'object';
    case 'array': return `list of ${plural(typeName(unwrap(d.element).inner))}`;
    case 'record': return `map of name to ${typeName(unwrap(d.valueType).inner)}`;
    default: return d.type;
  }
}

/** Peels optional/default/prefault wrappers, keeping what they say. */
function unwrap(s: AnySchema): { inner: AnySchema; optional: boolean; defaultValue?: unknown; hasDefault: boolean } {
  let inner = s;
  let optional = false;
  let hasDefault = false;
  let defaultValue: unknown;
  for (let i = 0; i < 10; i++) {
    const d = def(inner);
    if (d.type === 'optional') optional = true;
    else if (d.type === 'default' || d.type === 'prefault') {
      if (!hasDefault) { hasDefault = true; defaultValue = d.defaultValue; }
    } else break;
    inner = d.innerType;
  }
  return { inner, optional, defaultValue, hasDefault };
}

function formatDefault(u: ReturnType<typeof unwrap>, docDefault: string | undefined): string {
  if (u.hasDefault) {
    const v = u.defaultValue;
    if (v && typeof v === 'object') return Array.isArray(v) && v.length === 0 ? '`[]`' : '(all defaults)';
    return `\`${String(v)}\``;
  }
  if (docDefault) return docDefault;
  return u.optional ? '(none)' : '**required**';
}

/** Names the exported schema objects, so that nested objects find their TSDoc. */
function exportedSchemaNames(): Map<unknown, string> {
  const names = new Map<unknown, string>();
  for (const [name, value] of Object.entries(schemaModule)) if (value && typeof value === 'object' && '_zod' in value) names.set(value, name);
  return names;
}

/** Walks ConfigSchema and returns one row per key path, parents before children. */
export function buildReference(docs = readSchemaDocs()): ReferenceRow[] {
  const names = exportedSchemaNames();
  const rows: ReferenceRow[] = [];
  const walkObject = (obj: AnySchema, path: string, anchor: string): void => {
    for (const [key, child] of Object.entries(def(obj).shape as Record<string, AnySchema>)) walkField(child, path ? `${path}.${key}` : key, `${anchor}.${key}`);
  };
  const walkField = (field: AnySchema, path: string, docKey: string): void => {
    const u = unwrap(field);
    let inner = u.inner;
    let childPath = path;
    if (def(inner).type === 'array') { childPath = `${path}[]`; inner = unwrap(def(inner).element).inner; }
    else if (def(inner).type === 'record') { childPath = `${path}.<name>`; inner = unwrap(def(inner).valueType).inner; }
    const ownDoc = parseDoc(docs.get(docKey) ?? '');
    const constName = names.get(inner);
    const constDoc = constName ? parseDoc(docs.get(constName) ?? '') : { text: '' };
    // Const docs start with their own path ("cluster.redis: how ..."): drop it.
    const meaning = ownDoc.text || constDoc.text.replace(/^[\w.[\]<>]+:\s*/, '');
    rows.push({ key: path, type: typeName(u.inner), default: formatDefault(u, ownDoc.defaultText), meaning, commentDefault: ownDoc.defaultText });
    if (def(inner).type === 'object') walkObject(inner, childPath, constName ?? docKey);
  };
  walkObject(schemaModule.ConfigSchema as unknown as AnySchema, '', 'ConfigSchema');
  return rows;
}

const cell = (s: string) => s.replace(/(?<!\\)\|/g, '\\|');

/** The markdown table of the reference. */
export function renderTable(rows: readonly ReferenceRow[]): string {
  const lines = ['| key | type | default | meaning |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| \`${r.key}\` | ${r.type} | ${cell(r.default)} | ${cell(r.meaning)} |`);
  return lines.join('\n');
}

/** The whole README section body (between the markers). */
export function renderSection(rows: readonly ReferenceRow[]): string {
  return [
    '## Configuration reference',
    '',
    'Every key of the YAML config file, generated from the schema (shared/config/schema.ts) by',
    '`node dist/shared/build/config-reference.js --write`; test/unit/shared/config-reference.test.ts fails when a key is missing here.',
    '`a[]` is a list, `a.<name>` a map keyed by a name of your choice. Secrets may come from the environment:',
    '`WSHA_REDIS_PASSWORD` (cluster.redis.password) and `WSHA_ADMIN_TOKEN` (node.admin.token). Relative certificate paths are',
    'resolved against the config file\'s folder. Check a file with `wsha config check FILE` (exit 0 valid, 2 invalid).',
    '',
    renderTable(rows),
  ].join('\n');
}

/** Returns README text with the config-reference section replaced by `body`. */
export function replaceSection(readme: string, body: string): string {
  const open = readme.indexOf(SECTION_OPEN);
  const close = readme.indexOf(SECTION_CLOSE);
  if (open < 0 || close < open) throw new Error(`README.md lacks the ${SECTION_OPEN} ... ${SECTION_CLOSE} markers`);
  return `${readme.slice(0, open + SECTION_OPEN.length)}\n${body}\n${readme.slice(close)}`;
}

/** The README section body, or undefined when the markers are missing. */
export function readSection(readme: string): string | undefined {
  const open = readme.indexOf(SECTION_OPEN);
  const close = readme.indexOf(SECTION_CLOSE);
  return open < 0 || close < open ? undefined : readme.slice(open + SECTION_OPEN.length, close);
}

/** What is wrong with the README reference: keys missing, rows out of date, rows for keys that no longer exist. */
export function checkReadme(readme: string, rows: readonly ReferenceRow[]): { missing: string[]; stale: string[]; unknown: string[] } {
  const section = readSection(readme) ?? '';
  const present = new Map<string, string>();
  for (const line of section.split('\n')) {
    const m = /^\| `([^`]+)` \|/.exec(line);
    if (m) present.set(m[1], line);
  }
  const expected = new Map(renderTable(rows).split('\n').slice(2).map((line, i) => [rows[i].key, line] as const));
  const missing = [...expected.keys()].filter((k) => !present.has(k));
  const stale = [...expected].filter(([k, line]) => present.has(k) && present.get(k) !== line).map(([k]) => k);
  const unknown = [...present.keys()].filter((k) => !expected.has(k));
  return { missing, stale, unknown };
}

if (require.main === module) {
  const rows = buildReference();
  if (process.argv.includes('--write')) {
    const file = join(REPO_ROOT, 'README.md');
    writeFileSync(file, replaceSection(readFileSync(file, 'utf8'), renderSection(rows)));
    process.stdout.write(`README.md: ${rows.length} config keys written\n`);
  } else {
    process.stdout.write(`${renderTable(rows)}\n`);
  }
}
