// The structure of a component's exported functions, read from the text
// format jco prints (`print`, wasmprinter): componentWit names a record but
// does not show its fields when it comes from an imported interface, so a
// component built against its own `secuxflow:inspector/types` with other
// fields would look like ours there. Only the component level is read (type,
// import, alias, export and lifted funcs); anything there this reader does not
// know makes the component's exports unknown, never guessed.

const EMPTY_CORE = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
const EMPTY_COMPONENT = [0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0];

/**
 * The component with each top-level core module (section 1) and nested
 * component (section 4) replaced by an empty one: the component-level types
 * stay as they are, and printing does not turn megabytes of code into text
 * this reader would skip anyway. The bytes as they are when not a component
 * this can walk.
 */
export function withoutCode(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 8 || bytes[4] !== 0x0d || bytes[6] !== 1) return bytes;
  const out: number[] = [...bytes.subarray(0, 8)];
  const leb = (n: number): number[] => { const o: number[] = []; do { let b = n & 0x7f; n = Math.floor(n / 128); if (n > 0) b |= 0x80; o.push(b); } while (n > 0); return o; };
  const parts: Uint8Array[] = [];
  let at = 8;
  while (at < bytes.length) {
    const start = at;
    const id = bytes[at++]!;
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      if (at >= bytes.length || shift > 28) return bytes;
      const b = bytes[at++]!;
      size += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
    }
    if (at + size > bytes.length) return bytes;
    if (id === 1 || id === 4) parts.push(Uint8Array.from([id, ...leb(8), ...(id === 1 ? EMPTY_CORE : EMPTY_COMPONENT)]));
    else parts.push(bytes.subarray(start, at + size));
    at += size;
  }
  const total = parts.reduce((n, p) => n + p.length, out.length);
  const result = new Uint8Array(total);
  result.set(out);
  let o = out.length;
  for (const p of parts) { result.set(p, o); o += p.length; }
  return result;
}

/** A resolved type: what the canonical ABI passes, with the WIT name it was reached by where it has one. */
export type TypeNode =
  | { k: 'prim'; p: string; name?: string }
  | { k: 'list' | 'option'; of: TypeNode; name?: string }
  | { k: 'tuple'; of: TypeNode[]; name?: string }
  | { k: 'record'; fields: [string, TypeNode][]; name?: string }
  | { k: 'variant'; cases: [string, TypeNode | null][]; name?: string }
  | { k: 'enum' | 'flags'; names: string[]; name?: string }
  | { k: 'result'; ok: TypeNode | null; err: TypeNode | null; name?: string }
  | { k: 'func'; params: [string, TypeNode][]; result: TypeNode | null; name?: string }
  | { k: 'other'; what: string; name?: string };

/** Bumped whenever TypeNode changes, so cached export types of another format are computed again. */
export const TYPE_FORMAT = 1;

type Sx = string | { q: string } | Sx[];

export class WatShapeError extends Error {}

function fail(what: string): never {
  throw new WatShapeError(what);
}

/** S-expressions of wasmprinter's output; comments and annotations such as (@name ...) are dropped. */
export function parseSx(text: string): Sx[] {
  const stack: Sx[][] = [[]];
  let i = 0;
  const n = text.length;
  const str = (): string => {
    let out = '';
    i++;
    for (;;) {
      if (i >= n) fail('unterminated string');
      const c = text[i]!;
      if (c === '"') { i++; return out; }
      if (c !== '\\') { out += c; i++; continue; }
      const e = text[i + 1] ?? '';
      if (e === 'u') {
        const m = /^\\u\{([0-9a-fA-F]+)\}/.exec(text.slice(i, i + 12));
        if (!m) fail('bad \\u escape');
        out += String.fromCodePoint(parseInt(m[1]!, 16));
        i += m[0].length;
      } else if (/^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
        out += String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16));
        i += 3;
      } else {
        out += ({ n: '\n', t: '\t', r: '\r', '"': '"', "'": "'", '\\': '\\' } as Record<string, string>)[e] ?? fail(`bad escape \\${e}`);
        i += 2;
      }
    }
  };
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r') { i++; continue; }
    if (text.startsWith('(;', i)) {
      let depth = 1;
      i += 2;
      while (depth > 0) {
        if (i >= n) fail('unterminated comment');
        if (text.startsWith('(;', i)) { depth++; i += 2; } else if (text.startsWith(';)', i)) { depth--; i += 2; } else i++;
      }
      continue;
    }
    if (text.startsWith(';;', i)) { while (i < n && text[i] !== '\n') i++; continue; }
    if (c === '(') { stack.push([]); i++; continue; }
    if (c === ')') {
      if (stack.length < 2) fail('unbalanced )');
      const list = stack.pop()!;
      if (!(typeof list[0] === 'string' && list[0].startsWith('@'))) stack[stack.length - 1]!.push(list);
      i++;
      continue;
    }
    if (c === '"') { stack[stack.length - 1]!.push({ q: str() }); continue; }
    if (c === '$' && text[i + 1] === '"') { i++; stack[stack.length - 1]!.push(`$${str()}`); continue; }
    const start = i;
    while (i < n && !' \n\t\r()"'.includes(text[i]!)) i++;
    stack[stack.length - 1]!.push(text.slice(start, i));
  }
  if (stack.length !== 1) fail('unbalanced (');
  return stack[0]!;
}

const PRIMS = new Set(['bool', 's8', 'u8', 's16', 'u16', 's32', 'u32', 's64', 'u64', 'f32', 'f64', 'char', 'string', 'error-context']);
const PRIM_ALIASES: Record<string, string> = { float32: 'f32', float64: 'f64' };

/** An entry of a type index space: a definition in its scope, an equality, another scope's export, or something opaque. */
type TypeEntry =
  | { def: Sx[]; scope: Scope; name?: string }
  | { ref: Sx; scope: Scope; name?: string }
  | { of: InstanceEntry; export: string; name?: string }
  | { other: string; name?: string };
/** An instance: its type's exports by name, or unknown (instantiated, composed). */
type InstanceEntry = { exports: Map<string, TypeEntry | FuncEntry> } | null;
type FuncEntry = { func: TypeEntry };

class Scope {
  readonly types: TypeEntry[] = [];
  readonly typeIds = new Map<string, number>();
  constructor(readonly parent: Scope | null) {}

  addType(e: TypeEntry, id: Sx | undefined): void {
    if (typeof id === 'string' && id.startsWith('$')) this.typeIds.set(id, this.types.length);
    this.types.push(e);
  }

  type(ref: Sx): TypeEntry {
    const i = index(ref, this.typeIds);
    return this.types[i] ?? fail(`type ${String(ref)} is not defined`);
  }
}

function index(ref: Sx, ids: Map<string, number>): number {
  if (typeof ref !== 'string') fail('expected an index');
  if (/^\d+$/.test(ref)) return Number(ref);
  return ids.get(ref) ?? fail(`${ref} is not defined`);
}

function q(x: Sx | undefined): string {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? x.q : fail('expected a string');
}

function isId(x: Sx | undefined): x is string {
  return typeof x === 'string' && x.startsWith('$');
}

/** The kind and, when present, the $id of an item such as (type $t ...) or (func $f ...); rest: what follows the id. */
function item(x: Sx | undefined): { kind: string; id?: string; rest: Sx[] } {
  if (!Array.isArray(x) || typeof x[0] !== 'string') fail('expected an item');
  return isId(x[1]) ? { kind: x[0], id: x[1], rest: x.slice(2) } : { kind: x[0], rest: x.slice(1) };
}

/** The type space of an instance type: its declarations and what it exports. */
function instanceType(def: Sx[], parent: Scope): InstanceEntry {
  const scope = new Scope(parent);
  const exports = new Map<string, TypeEntry | FuncEntry>();
  for (const decl of def.slice(1)) {
    const d = item(decl);
    if (d.kind === 'type') scope.addType(typeEntry(d.rest, scope), d.id);
    else if (d.kind === 'alias') scope.addType(outerAlias(d.rest, scope), aliasId(d.rest));
    else if (d.kind === 'core') continue;
    else if (d.kind === 'export') {
      const name = q(d.rest[0]);
      const ext = item(d.rest[1]);
      if (ext.kind === 'type') {
        const e = { ...typeEntry(ext.rest, scope), name };
        scope.addType(e, ext.id);
        exports.set(name, e);
      } else if (ext.kind === 'func') exports.set(name, { func: funcTypeUse(ext.rest, scope) });
      else exports.set(name, { other: ext.kind });
    } else fail(`unknown instance type declaration ${d.kind}`);
  }
  return { exports };
}

function aliasId(rest: Sx[]): string | undefined {
  const last = rest[rest.length - 1];
  return Array.isArray(last) && isId(last[1]) ? last[1] : undefined;
}

/** (alias outer N idx (type $id?)) inside a type: the type idx of the Nth enclosing scope. */
function outerAlias(rest: Sx[], scope: Scope): TypeEntry {
  if (rest[0] !== 'outer' || !Array.isArray(rest[3]) || rest[3][0] !== 'type') fail('only outer type aliases are read in types');
  let s: Scope | null = scope;
  const depth = rest[1];
  if (typeof depth !== 'string' || !/^\d+$/.test(depth)) fail('outer alias by name');
  for (let k = 0; k < Number(depth); k++) s = s?.parent ?? null;
  if (s === null) fail('outer alias beyond the component');
  return s.type(rest[2]!);
}

/** What follows `type $id?` in a declaration: (eq T), (sub resource), or a definition. */
function typeEntry(rest: Sx[], scope: Scope): TypeEntry {
  const body = rest[0];
  if (Array.isArray(body) && body[0] === 'eq') return { ref: body[1]!, scope };
  if (Array.isArray(body) && body[0] === 'sub') return { other: 'resource' };
  if (Array.isArray(body)) return { def: body, scope };
  if (body !== undefined) return { ref: body, scope };
  fail('empty type');
}

/** (func (type N)) or an inline func type. */
function funcTypeUse(rest: Sx[], scope: Scope): TypeEntry {
  const t = rest[0];
  if (Array.isArray(t) && t[0] === 'type') return { ref: t[1]!, scope };
  return { def: ['func', ...rest], scope };
}

const MAX_DEPTH = 64;
/** Types a single export may expand to: a type used twice is expanded twice, so sharing could otherwise double them at every level. */
const MAX_NODES = 4096;
let nodesLeft = MAX_NODES;

function resolveEntry(e: TypeEntry, depth: number): TypeNode {
  if (depth > MAX_DEPTH) fail('types nest too deep');
  let node: TypeNode;
  if ('def' in e) node = resolveDef(e.def, e.scope, depth + 1);
  else if ('ref' in e) node = resolveRef(e.ref, e.scope, depth + 1);
  else if ('of' in e) {
    const x = e.of?.exports.get(e.export);
    if (x === undefined) fail(`instance has no export ${e.export}`);
    node = 'func' in x ? resolveEntry(x.func, depth + 1) : resolveEntry(x, depth + 1);
  } else node = { k: 'other', what: e.other };
  return e.name !== undefined && node.name === undefined ? { ...node, name: e.name } : node;
}

function resolveRef(ref: Sx, scope: Scope, depth: number): TypeNode {
  if (typeof ref === 'string' && PRIMS.has(ref)) return { k: 'prim', p: ref };
  if (typeof ref === 'string' && ref in PRIM_ALIASES) return { k: 'prim', p: PRIM_ALIASES[ref]! };
  if (Array.isArray(ref)) return resolveDef(ref, scope, depth);
  return resolveEntry(scope.type(ref), depth);
}

function resolveDef(def: Sx[], scope: Scope, depth: number): TypeNode {
  if (depth > MAX_DEPTH) fail('types nest too deep');
  if (--nodesLeft < 0) fail(`an export's types expand to more than ${MAX_NODES} parts`);
  const [head, ...args] = def;
  const t = (x: Sx | undefined): TypeNode => resolveRef(x ?? fail(`${String(head)} without a type`), scope, depth + 1);
  const lists = (what: string): Sx[][] => args.map((a) => (Array.isArray(a) && a[0] === what ? a : fail(`${String(head)} holds something other than ${what}`)));
  switch (head) {
    case 'list':
      if (args.length !== 1) return { k: 'other', what: 'fixed-length list' };
      return { k: 'list', of: t(args[0]) };
    case 'option':
      return { k: 'option', of: t(args[0]) };
    case 'tuple':
      return { k: 'tuple', of: args.map((a) => t(a)) };
    case 'record':
      return { k: 'record', fields: lists('field').map((f) => [q(f[1]), t(f[2])]) };
    case 'variant':
      return {
        k: 'variant',
        cases: lists('case').map((c) => {
          const rest = isId(c[1]) ? c.slice(2) : c.slice(1);
          const payload = rest.slice(1).filter((x) => !(Array.isArray(x) && x[0] === 'refines'));
          return [q(rest[0]), payload.length === 0 ? null : t(payload[0])];
        }),
      };
    case 'enum':
    case 'flags':
      return { k: head, names: args.map(q) };
    case 'result': {
      let ok: TypeNode | null = null;
      let err: TypeNode | null = null;
      for (const a of args) {
        if (Array.isArray(a) && a[0] === 'error') err = t(a[1]);
        else ok = t(a);
      }
      return { k: 'result', ok, err };
    }
    case 'func': {
      const params: [string, TypeNode][] = [];
      let result: TypeNode | null = null;
      for (const a of args) {
        if (!Array.isArray(a)) fail('func holds an atom');
        if (a[0] === 'param') params.push([q(a[1]), t(a[2])]);
        else if (a[0] === 'result' && a.length === 2) result = t(a[1]);
        else fail('func with named results');
      }
      return { k: 'func', params, result };
    }
    case 'own':
    case 'borrow':
    case 'resource':
    case 'stream':
    case 'future':
    case 'instance':
    case 'component':
      return { k: 'other', what: head };
    default:
      fail(`unknown type ${String(head)}`);
  }
}

/**
 * The types of a component's exported functions, by export name, from
 * wasmprinter's text of the component (only: those exports alone; others
 * are not expanded). Throws WatShapeError when the
 * component level holds something this reader cannot follow.
 */
export function exportTypes(wat: string, only?: readonly string[]): Record<string, TypeNode> {
  const top = parseSx(wat);
  if (top.length !== 1 || !Array.isArray(top[0]) || top[0][0] !== 'component') fail('not a component');
  const scope = new Scope(null);
  const funcs: (TypeEntry | null)[] = [];
  const funcIds = new Map<string, number>();
  const instances: InstanceEntry[] = [];
  const instanceIds = new Map<string, number>();
  const add = <T>(space: T[], ids: Map<string, number>, id: string | undefined, e: T): void => {
    if (id !== undefined) ids.set(id, space.length);
    space.push(e);
  };
  const out: Record<string, TypeNode> = {};
  const instanceOfType = (ref: Sx): InstanceEntry => {
    const e = scope.type(ref);
    if ('def' in e && e.def[0] === 'instance') return instanceType(e.def, e.scope);
    fail('an instance of a type that is not an instance type');
  };
  for (const form of top[0].slice(1)) {
    const f = item(form);
    switch (f.kind) {
      case 'core': case 'component': case 'start':
        // Core items have their own index spaces; nested components are only reached through instances.
        break;
      case 'type':
        scope.addType(typeEntry(f.rest, scope), f.id);
        break;
      case 'import': {
        const name = q(f.rest[0]);
        const ext = item(f.rest[1]);
        if (ext.kind === 'type') scope.addType({ ...typeEntry(ext.rest, scope), name }, ext.id);
        else if (ext.kind === 'func') add(funcs, funcIds, ext.id, funcTypeUse(ext.rest, scope));
        else if (ext.kind === 'instance') {
          const t = ext.rest[0];
          const inst = Array.isArray(t) && t[0] === 'type' ? instanceOfType(t[1]!) : instanceType(['instance', ...ext.rest], scope);
          add(instances, instanceIds, ext.id, inst);
        } else if (ext.kind !== 'component' && ext.kind !== 'value' && ext.kind !== 'core') fail(`import of a ${ext.kind}`);
        break;
      }
      case 'alias': {
        if (f.rest[0] === 'core') break;
        if (f.rest[0] !== 'export') fail(`alias ${String(f.rest[0])} at the component level`);
        const inst = instances[index(f.rest[1]!, instanceIds)];
        if (inst === undefined) fail('alias of an unknown instance');
        const name = q(f.rest[2]);
        const ext = item(f.rest[3]);
        const entry: TypeEntry = { of: inst, export: name, name };
        if (ext.kind === 'type') scope.addType(entry, ext.id);
        else if (ext.kind === 'func') add(funcs, funcIds, ext.id, inst === null ? null : entry);
        else if (ext.kind === 'instance') add(instances, instanceIds, ext.id, null);
        break;
      }
      case 'func': {
        const t = f.rest[0];
        add(funcs, funcIds, f.id, Array.isArray(t) && t[0] === 'type' && Array.isArray(f.rest[1]) && f.rest[1][0] === 'canon' ? { ref: t[1]!, scope } : null);
        break;
      }
      case 'instance':
        add(instances, instanceIds, f.id, null);
        break;
      case 'export': {
        const [name, target, ascribed] = isId(f.rest[0]) ? f.rest.slice(1) : f.rest;
        const ext = item(target);
        // Here (func $f) names what is exported: $f is a reference, not a new id.
        const ref = ext.id ?? ext.rest[0] ?? fail('export of nothing');
        const id = isId(f.rest[0]) ? f.rest[0] : undefined;
        if (ext.kind === 'func') {
          const asc = Array.isArray(ascribed) ? funcTypeUse(item(ascribed).rest, scope) : null;
          const fn = asc ?? funcs[index(ref, funcIds)];
          if (fn === undefined) fail(`export ${q(name)} of an unknown func`);
          add(funcs, funcIds, id, fn);
          nodesLeft = MAX_NODES;
          if (only === undefined || only.includes(q(name))) out[q(name)] = fn === null ? { k: 'other', what: 'a func whose type is not known here' } : resolveEntry(fn, 0);
        } else if (ext.kind === 'type') scope.addType({ ref, scope, name: q(name) }, id);
        else if (ext.kind === 'instance') add(instances, instanceIds, id, null);
        break;
      }
      default:
        fail(`unknown component item ${f.kind}`);
    }
  }
  return out;
}

/** A type as WIT writes it, for messages. */
export function render(t: TypeNode | null): string {
  if (t === null) return 'nothing';
  if (t.name !== undefined && t.k !== 'func') return t.name;
  switch (t.k) {
    case 'prim': return t.p;
    case 'list': case 'option': return `${t.k}<${render(t.of)}>`;
    case 'tuple': return `tuple<${t.of.map(render).join(', ')}>`;
    case 'result': return `result<${render(t.ok)}, ${render(t.err)}>`;
    case 'func': return `func(${t.params.map(([, p]) => render(p)).join(', ')})${t.result ? ` -> ${render(t.result)}` : ''}`;
    case 'other': return t.what;
    default: return `an unnamed ${t.k}`;
  }
}

function kindName(t: TypeNode): string {
  return t.k === 'prim' ? t.p : t.k === 'other' ? t.what : t.k;
}

/**
 * The first place where `got` differs from `want` in structure (names of
 * types are not compared; field, case and flag names are), as a sentence
 * naming the type and the field; null when they are the same.
 */
export function typeDifference(got: TypeNode | null, want: TypeNode | null, where = ''): string | null {
  const at = where === '' ? '' : `${where}: `;
  if (got === null || want === null) return got === want ? null : `${at}${render(got)} where the world has ${render(want)}`;
  const named = want.name ?? got.name;
  const what = named !== undefined ? `${want.k} ${named}` : render(want);
  if (got.k !== want.k) return `${at}${kindName(got)} ${render(got)} where the world has ${kindName(want)} ${render(want)}`;
  switch (want.k) {
    case 'prim':
      return (got as typeof want).p === want.p ? null : `${at}${render(got)} where the world has ${want.p}`;
    case 'other':
      return (got as typeof want).what === want.what ? null : `${at}${render(got)} where the world has ${render(want)}`;
    case 'list': case 'option':
      return typeDifference((got as typeof want).of, want.of, where === '' ? `${want.k} element` : `${where}, ${want.k} element`);
    case 'tuple': {
      const g = got as typeof want;
      if (g.of.length !== want.of.length) return `${at}${render(got)} where the world has ${render(want)}`;
      for (let i = 0; i < want.of.length; i++) {
        const d = typeDifference(g.of[i]!, want.of[i]!, `${where}${where ? ', ' : ''}tuple element ${i}`);
        if (d !== null) return d;
      }
      return null;
    }
    case 'result': {
      const g = got as typeof want;
      return typeDifference(g.ok, want.ok, `${where}${where ? ', ' : ''}result ok`) ?? typeDifference(g.err, want.err, `${where}${where ? ', ' : ''}result error`);
    }
    case 'enum': case 'flags': {
      const g = got as typeof want;
      const i = firstDiff(g.names, want.names);
      if (i < 0) return null;
      const word = want.k === 'enum' ? 'case' : 'flag';
      return `${what}: ${describeAt(word, i, g.names, want.names)}`;
    }
    case 'record': case 'variant': {
      const g = got as { fields?: [string, TypeNode | null][]; cases?: [string, TypeNode | null][] };
      const w = (want.k === 'record' ? want.fields : want.cases) as [string, TypeNode | null][];
      const mine = (want.k === 'record' ? g.fields : g.cases)!;
      const word = want.k === 'record' ? 'field' : 'case';
      const i = firstDiff(mine.map(([n]) => n), w.map(([n]) => n));
      if (i >= 0) return `${what}: ${describeAt(word, i, mine.map(([n]) => n), w.map(([n]) => n))}`;
      for (let j = 0; j < w.length; j++) {
        const d = typeDifference(mine[j]![1], w[j]![1], `${what}, ${word} ${w[j]![0]}`);
        if (d !== null) return d;
      }
      return null;
    }
    case 'func': {
      const g = got as typeof want;
      if (g.params.length !== want.params.length) return `${at}${render(got)} where the world has ${render(want)}`;
      for (let j = 0; j < want.params.length; j++) {
        const d = typeDifference(g.params[j]![1], want.params[j]![1], `parameter ${want.params[j]![0]}`);
        if (d !== null) return d;
      }
      return typeDifference(g.result, want.result, 'result');
    }
  }
}

function firstDiff(a: string[], b: string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

function describeAt(word: string, i: number, got: string[], want: string[]): string {
  const g = got[i];
  const w = want[i];
  if (w !== undefined && !got.includes(w)) return `${word} ${w} is missing (the world's ${word} ${i + 1})`;
  if (g !== undefined && !want.includes(g)) return `${word} ${g} is one the world does not have`;
  return `${word} ${i + 1} is ${g} where the world has ${w} (the world's order is ${want.join(', ')})`;
}

/** Whether a cached value has the TypeNode shape (a damaged or foreign cache entry is computed again). */
export function isTypeNode(v: unknown, depth = 0): v is TypeNode {
  if (depth > MAX_DEPTH || typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  if (o.name !== undefined && typeof o.name !== 'string') return false;
  const t = (x: unknown): boolean => x === null || isTypeNode(x, depth + 1);
  const pairs = (x: unknown, nullable: boolean): boolean => Array.isArray(x) && x.every((p) => Array.isArray(p) && p.length === 2
    && typeof p[0] === 'string' && (nullable ? t(p[1]) : isTypeNode(p[1], depth + 1)));
  switch (o.k) {
    case 'prim': return typeof o.p === 'string';
    case 'list': case 'option': return isTypeNode(o.of, depth + 1);
    case 'tuple': return Array.isArray(o.of) && o.of.every((x) => isTypeNode(x, depth + 1));
    case 'record': return pairs(o.fields, false);
    case 'variant': return pairs(o.cases, true);
    case 'enum': case 'flags': return Array.isArray(o.names) && o.names.every((x) => typeof x === 'string');
    case 'result': return t(o.ok) && t(o.err);
    case 'func': return pairs(o.params, false) && t(o.result);
    case 'other': return typeof o.what === 'string';
    default: return false;
  }
}
