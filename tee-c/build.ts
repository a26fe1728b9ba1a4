// Builds the C host and translates TA binaries to C at test/bench time, cached by input hash
// under build/out/c-host/ (issue 8). Nothing here rebuilds a TA from source: each wasm's exact
// bytes (the manifest-hashed ones) go through wasm2c and gcc into <sha256>.so, the AOT image the
// host loads after checking that same hash.
//
//   wasm2c (Debian wabt 1.0.32)  -n m<sha16>   no feature flags: AssemblyScript 0.28's default
//                                               output (mutable globals, sign-extension,
//                                               bulk memory, no SIMD in our TAs) is what both
//                                               runtimes accept
//   gcc -O2 -fPIC -shared        -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0: explicit bounds checks on
//                                every load/store (no 8 GiB guard reservation, no SIGSEGV
//                                handler: what a TEE without mprotect can run), call-depth count
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const ROOT = new URL('../', import.meta.url).pathname;
const SRC = join(ROOT, 'tee-c', 'src');
export const OUT = join(ROOT, 'build', 'out', 'c-host');
const WASM_RT_DIR = '/usr/share/wabt/wasm2c';

export const TA_CFLAGS = ['-O2', '-fPIC', '-shared', '-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0', '-DWASM_RT_MAX_CALL_STACK_DEPTH=4000', '-w'];
const HOST_CFLAGS = ['-O2', '-std=gnu11', '-Wall', '-Wno-unused-function', '-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0', '-rdynamic'];

/** AddressSanitizer + UndefinedBehaviorSanitizer (issue 17 §8/§9): any memory error or undefined
 * behaviour in the host ends it at once with a report on stderr (-fno-sanitize-recover=all).
 * Added to every variant when TRUSTTAP_C_SANITIZE=1 (CI runs the kit and the C-host suites so,
 * .ci/run), and always for the 'sanitized' variant (test/conformance/c-host-memory.test.ts).
 * The TA images stay as they are: the sanitizers watch the host, which holds the pointers. */
export const SANITIZE_CFLAGS = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer', '-g', '-DTT_SANITIZE'];

/** Whether TRUSTTAP_C_SANITIZE asks for sanitized hosts. */
export function sanitizeRequested(): boolean {
  const v = process.env.TRUSTTAP_C_SANITIZE;
  return v !== undefined && !['', '0', 'false'].includes(v.toLowerCase());
}

/** The host variants the tests build: the real one, one with test hooks (deterministic random
 * source, settable REE clock: test-only flags), and deliberately broken ones for the kit. */
export type HostVariant = 'release' | 'test' | 'sanitized' | 'broken-bounds' | 'broken-signature';
const VARIANT_FLAGS: Record<HostVariant, string[]> = {
  release: [],
  test: ['-DTT_TEST_HOOKS'],
  sanitized: ['-DTT_TEST_HOOKS', ...SANITIZE_CFLAGS],
  'broken-bounds': ['-DTT_TEST_HOOKS', '-DBROKEN_BOUNDS'],
  'broken-signature': ['-DTT_TEST_HOOKS', '-DBROKEN_SIGNATURE'],
};

export interface Toolchain { ok: boolean; missing: string[]; wasm2cVersion?: string }

/** Whether an executable `cmd` is on PATH. A scan of PATH, not a spawned `sh -c command -v`: a
 * spawn that fails under load (EAGAIN, ENOMEM) must not read as "wasm2c is missing" and make one
 * C-host file skip while the others run. */
function which(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try { accessSync(join(dir, cmd), constants.X_OK); return true; } catch { /* not in this directory */ }
  }
  return false;
}

export function toolchain(): Toolchain {
  const missing: string[] = [];
  if (!which('wasm2c') || !existsSync(join(WASM_RT_DIR, 'wasm-rt-impl.c'))) missing.push('wasm2c + wasm-rt-impl.c (Debian package wabt)');
  if (!which('gcc')) missing.push('gcc');
  if (!existsSync('/usr/include/openssl/evp.h')) missing.push('OpenSSL headers (Debian package libssl-dev)');
  // the sanitized host (AddressSanitizer + UBSan runtimes ship with Debian's gcc: libasan8, libubsan1)
  if (which('gcc') && !['libasan.so', 'libubsan.so'].every((l) => execFileSync('gcc', [`-print-file-name=${l}`], { encoding: 'utf8' }).trim().startsWith('/'))) missing.push('the gcc sanitizer runtimes (Debian packages libasan8, libubsan1)');
  let wasm2cVersion: string | undefined;
  if (!missing.length) wasm2cVersion = execFileSync('wasm2c', ['--version'], { encoding: 'utf8' }).trim();
  return { ok: missing.length === 0, missing, wasm2cVersion };
}

/** CI must not skip: TRUSTTAP_REQUIRE_C_RUNTIME=1 (or CI=true) turns a missing toolchain into a failure. */
export function cRuntimeRequired(): boolean {
  const on = (v: string | undefined) => v !== undefined && !['', '0', 'false'].includes(v.toLowerCase());
  return on(process.env.TRUSTTAP_REQUIRE_C_RUNTIME) || process.env.CI === 'true' || process.env.CI === '1';
}

const sha = (b: string | Uint8Array) => createHash('sha256').update(b).digest('hex');

function toolchainKey(): string {
  const t = toolchain();
  return sha([t.wasm2cVersion ?? '', readFileSync(join(WASM_RT_DIR, 'wasm-rt-impl.c')), readFileSync('/usr/include/wasm-rt.h'), TA_CFLAGS.join(' '), readFileSync(join(SRC, 'tt.h')), GLUE_VERSION].join('\0')).slice(0, 16);
}

function atomicDir<T>(final: string, make: (tmp: string) => T): void {
  if (existsSync(final)) return;
  mkdirSync(join(final, '..'), { recursive: true });
  const tmp = mkdtempSync(`${final}.tmp-`);
  try {
    make(tmp);
    try { renameSync(tmp, final); } catch { /* another worker won the race */ }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Builds (or finds cached) the host binary of a variant; returns its path. */
export function buildHost(variant: HostVariant = 'test'): string {
  const files = readdirSync(SRC).filter((f) => f.endsWith('.c') || f.endsWith('.h')).sort();
  const flags = [...VARIANT_FLAGS[variant], ...(sanitizeRequested() && variant !== 'sanitized' ? SANITIZE_CFLAGS : [])];
  const key = sha([...files.map((f) => f + readFileSync(join(SRC, f), 'utf8')), HOST_CFLAGS.join(' '), flags.join(' '), toolchain().wasm2cVersion ?? ''].join('\0')).slice(0, 16);
  const dir = join(OUT, `host-${variant}${flags.includes('-DTT_SANITIZE') && variant !== 'sanitized' ? '-sanitized' : ''}-${key}`);
  atomicDir(dir, (tmp) => {
    execFileSync("gcc", [...HOST_CFLAGS, ...flags, `-I${SRC}`, `-I${WASM_RT_DIR}`,
      ...files.filter((f) => f.endsWith('.c')).map((f) => join(SRC, f)), join(WASM_RT_DIR, 'wasm-rt-impl.c'),
      '-o', join(tmp, 'tt-host'), '-lcrypto', '-ldl', '-lm'], { stdio: ['ignore', 'ignore', 'pipe'] });
  });
  return join(dir, 'tt-host');
}

/** Directory holding <sha256>.so translations for the current toolchain. */
export function taCacheDir(): string {
  const d = join(OUT, `ta-${toolchainKey()}`);
  mkdirSync(d, { recursive: true });
  return d;
}

const GLUE_VERSION = 'glue-2';
const EXPORTS = ['io_in', 'io_out', 'io_cap', 'ta_out_len', 'ta_create', 'ta_open_session', 'ta_invoke', 'ta_close_session', 'ta_destroy', 'ta_tui_event'];

/** The glue that turns a wasm2c module into the uniform tt_module the host dlopens. */
function glue(mod: string, header: string): string {
  const m = header.match(new RegExp(`void Z_${mod}_instantiate\\(Z_${mod}_instance_t\\*([^)]*)\\);`));
  if (!m) throw new Error(`wasm2c header for ${mod} has no instantiate function`);
  const args = m[1].split(',').map((s) => s.trim()).filter(Boolean).map((a) => (a.includes('Z_env_instance_t') ? '(struct Z_env_instance_t*)env' : a.includes('Z_tee_instance_t') ? '(struct Z_tee_instance_t*)tee' : 'NULL'));
  const has = (e: string) => header.includes(` Z_${mod}Z_${e}(`);
  const fn = (e: string) => (has(e) ? `(void*)Z_${mod}Z_${e}` : 'NULL');
  return `// generated by tee-c/build.ts (${GLUE_VERSION})
#include "${mod}.h"
#include "tt.h"
static void inst(void *i, void *env, void *tee) { (void)env; (void)tee; Z_${mod}_instantiate((Z_${mod}_instance_t*)i${args.map((a) => ', ' + a).join('')}); }
static void fre(void *i) { Z_${mod}_free((Z_${mod}_instance_t*)i); }
static void *mem(void *i) { return ${has('memory') ? `Z_${mod}Z_memory((Z_${mod}_instance_t*)i)` : 'NULL'}; }
__attribute__((visibility("default"))) const tt_module tt_ta_module = {
  TT_MODULE_ABI, sizeof(Z_${mod}_instance_t), Z_${mod}_init_module, inst, fre, mem,
  ${EXPORTS.map((e) => `(void*)${fn(e).replace('(void*)', '')}`).join(',\n  ')}
};
`;
}

export interface Translation { so: string; cBytes: number; hBytes: number; soBytes: number }

/** Translates one wasm (exact bytes) to <cache>/<sha256>.so; returns null when wasm2c refuses
 * it (the host then reports the loader error, e.g. NOT_WASM). */
export function translateTa(wasm: Uint8Array): Translation | null {
  const hash = sha(wasm);
  const dir = taCacheDir();
  const so = join(dir, `${hash}.so`);
  const statsFile = join(dir, `${hash}.json`);
  if (existsSync(so) && existsSync(statsFile)) return { so, ...JSON.parse(readFileSync(statsFile, 'utf8')) };
  const mod = `m${hash.slice(0, 16)}`;
  const tmp = mkdtempSync(join(dir, `${hash}.tmp-`));
  try {
    writeFileSync(join(tmp, 'ta.wasm'), wasm);
    try {
      execFileSync('wasm2c', [join(tmp, 'ta.wasm'), '-n', mod, '-o', join(tmp, `${mod}.c`)], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch {
      return null;
    }
    const header = readFileSync(join(tmp, `${mod}.h`), 'utf8');
    writeFileSync(join(tmp, 'glue.c'), glue(mod, header));
    execFileSync('gcc', [...TA_CFLAGS, `-I${tmp}`, `-I${SRC}`, `-I${WASM_RT_DIR}`, join(tmp, `${mod}.c`), join(tmp, 'glue.c'), '-o', join(tmp, 'ta.so')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const stats = { cBytes: readFileSync(join(tmp, `${mod}.c`)).length, hBytes: header.length, soBytes: readFileSync(join(tmp, 'ta.so')).length };
    writeFileSync(join(tmp, 'stats.json'), JSON.stringify(stats));
    renameSync(join(tmp, 'ta.so'), so);
    renameSync(join(tmp, 'stats.json'), statsFile);
    return { so, ...stats };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
