// asc transform (asconfig.json "transform"): the string literals of the project's AssemblyScript
// sources — mostly error reasons — are stored once, as UTF-8, in one static block, instead of as
// UTF-16 string objects each in its own data segment. ASCII text is then half the bytes, with no
// object header and no segment per string: the keystore's ~17 KB of reasons take 8.9 KB
// (issue 15, docs/performance.md). Each literal becomes `__tt_text(offset, length)`
// (ta/lib/text.ts), which decodes it when evaluated — the same string value, made on demand, so
// it only reads literals on paths that run rarely or once (top-level constants run once).
// Kept as literals: module paths, decorators (`@external`) and the field name of `offsetof`,
// which must be compile-time constants, and library (~lib/) sources.
// WebAssembly strings: AssemblyScript 0.28 String is UTF-16; UTF-8 per RFC 3629.
import { Transform } from 'assemblyscript/transform';

const NODE = { Call: 10, Identifier: 7, Literal: 17, Export: 36, ExportImport: 38, Import: 43, ImportDeclaration: 57, Decorator: 63, VariableDeclaration: 62 };
const LITERAL_STRING = 2;
const LITERAL_ARRAY = 5;
const BLOCK_FILE = 'ta/lib/text.ts';
const BLOCK_NAME = 'TEXT';
const HELPER = '__tt_text';
/** Shorter literals stay as they are (tokens like "E", "00", compared in parsers). */
const MIN_LENGTH = 4;
/** An integer literal's value as the compiler holds i64 in its JavaScript build (a global it sets up). */
const i64 = (n) => globalThis.i64_new(n, 0);

export default class TextTransform extends Transform {
  afterParse(parser) {
    const bytes = [];
    const offsets = new Map(); // literal → [offset, length]
    let factory = null; // the Node class of the compiler's AST
    let block = null; // the array literal of ta/lib/text.ts `const TEXT = memory.data<u8>([0])`
    const intern = (text) => {
      let at = offsets.get(text);
      if (!at) {
        const utf8 = new TextEncoder().encode(text);
        at = [bytes.length, utf8.length];
        for (const b of utf8) bytes.push(b);
        offsets.set(text, at);
      }
      return at;
    };
    const rewrite = (node) => {
      factory ??= Object.getPrototypeOf(Object.getPrototypeOf(node)).constructor; // Node
      const r = node.range;
      const [offset, length] = intern(node.value);
      return factory.createCallExpression(factory.createIdentifierExpression(HELPER, r), null,
        [factory.createIntegerLiteralExpression(i64(offset), r), factory.createIntegerLiteralExpression(i64(length), r)], r);
    };
    const isStringLiteral = (v) => v && v.kind === NODE.Literal && v.literalKind === LITERAL_STRING;
    const seen = new Set();
    const walk = (node, inBlockFile) => {
      if (!node || typeof node !== 'object' || seen.has(node)) return;
      seen.add(node);
      switch (node.kind) {
        case NODE.Import: case NODE.Export: case NODE.ExportImport: case NODE.ImportDeclaration: case NODE.Decorator: return;
        case NODE.Call:
          if (node.expression?.kind === NODE.Identifier && node.expression.text === 'offsetof') return;
          break;
        case NODE.VariableDeclaration:
          if (inBlockFile && node.name?.text === BLOCK_NAME) { block = node.initializer.args[0]; return; }
          break;
      }
      for (const key of Object.keys(node)) {
        if (key === 'range' || key === 'decorators') continue;
        const v = node[key];
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) {
            if (isStringLiteral(v[i]) && v[i].value.length >= MIN_LENGTH) v[i] = rewrite(v[i]);
            else walk(v[i], inBlockFile);
          }
        } else if (v && typeof v === 'object' && typeof v.kind === 'number') {
          if (isStringLiteral(v) && v.value.length >= MIN_LENGTH) node[key] = rewrite(v);
          else walk(v, inBlockFile);
        }
      }
    };
    // A program without the block (a test fixture that does not import ta/lib/entry.ts) keeps
    // its literals as they are.
    if (!parser.sources.some((source) => source.normalizedPath === BLOCK_FILE)) return;
    for (const source of parser.sources) {
      if (source.internalPath.startsWith('~lib/')) continue;
      const inBlockFile = source.normalizedPath === BLOCK_FILE;
      for (const s of source.statements) walk(s, inBlockFile);
    }
    if (bytes.length === 0) return;
    if (!block || block.kind !== NODE.Literal || block.literalKind !== LITERAL_ARRAY) {
      throw new Error(`text transform: ${BLOCK_FILE} must hold \`const ${BLOCK_NAME} = memory.data<u8>([0])\``);
    }
    const r = block.range;
    block.elementExpressions = bytes.map((b) => factory.createIntegerLiteralExpression(i64(b), r));
  }
}
