// Module resolve hook for source-alias.mjs: trusttap/<subpath> -> the source file of that entry.
const SOURCES = {
  'trusttap/conformance': '../../conformance/index.ts',
  'trusttap/runtime': '../../tee/index.ts',
};

export async function resolve(specifier, context, next) {
  const source = SOURCES[specifier];
  // handed on (not short-circuited), so tsx's own resolve sees the .ts file
  if (source) return next(new URL(source, import.meta.url).href, context);
  return next(specifier, context);
}
