// Helpers of the CLI tests: the `trusttap` command spawned as a user runs it (exit code, stdout,
// stderr), or a command's run() in-process with its console captured.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/trusttap.mjs', import.meta.url));

export interface Ran { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs `node bin/trusttap.mjs ...args` (or another command line) to its end. */
export function spawnCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cmd?: string } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const p = spawn(opts.cmd ?? process.execPath, opts.cmd ? args : [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Calls a command's run(args) with console.log / console.error captured. */
export async function runCaptured(run: (args: string[]) => Promise<number>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [], err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...x: unknown[]) => { out.push(x.join(' ')); });
  const error = vi.spyOn(console, 'error').mockImplementation((...x: unknown[]) => { err.push(x.join(' ')); });
  try {
    const code = await run(args);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

/** A stack trace line as Node prints one. */
export const STACK = /^\s+at .+[:(]/m;
