// The REE's way to the C host: a TeeTransport (ree/tee-client/client.ts) that spawns tt-host
// and carries the same ClientRequest/ClientResponse bytes over its stdio, one frame each way
// (4-byte big-endian length + message). The host answers in order, so replies are matched to
// requests first-in first-out. The REE code is unchanged: TeeContext.initialize(transport).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { TeeTransport } from '../ree/tee-client/client.ts';

export interface CHostOptions {
  /** Path of the tt-host binary (tee-c/build.ts buildHost). */
  host: string;
  /** Directory of <sha256>.so translations (tee-c/build.ts taCacheDir). */
  cacheDir: string;
  dataDir: string;
  /** Either a signed build directory and its trusted key … */
  buildDir?: string;
  keyPem?: string;
  /** … or TA images already written to files: name, uuid, version, path. */
  tas?: { name: string; uuid: string; version: string; file: string }[];
  timeBudgetMs?: number;
  extraArgs?: string[];
  /** Debug log lines of the host (stderr). */
  log?: (line: string) => void;
}

export class CHostTransport implements TeeTransport {
  private buf: Buffer = Buffer.alloc(0);
  private readonly pending: { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }[] = [];
  private ready!: Promise<void>;
  private exited: Error | null = null;
  private stderr = '';

  private constructor(readonly proc: ChildProcessWithoutNullStreams) {}

  /** Starts the host; resolves once it has loaded its TAs, rejects with its load error. */
  static async start(o: CHostOptions): Promise<CHostTransport> {
    const args = ['--data', o.dataDir, '--cache', o.cacheDir, '--time-budget-ms', String(o.timeBudgetMs ?? 5000)];
    if (o.buildDir) args.push('--build', o.buildDir, '--key', o.keyPem ?? '');
    for (const t of o.tas ?? []) args.push('--ta', `${t.name}:${t.uuid}:${t.version}:${t.file}`);
    args.push(...(o.extraArgs ?? []));
    const t = new CHostTransport(spawn(o.host, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
    let readyResolve!: () => void, readyReject!: (e: Error) => void;
    t.ready = new Promise((res, rej) => { readyResolve = res; readyReject = rej; });
    let isReady = false;
    t.proc.stderr.on('data', (d: Buffer) => {
      t.stderr = (t.stderr + d.toString('utf8')).slice(-8192);
      if (o.log) for (const l of d.toString('utf8').split('\n')) if (l) o.log(l);
    });
    t.proc.stdout.on('data', (d: Buffer) => {
      t.buf = t.buf.length ? Buffer.concat([t.buf, d]) : d;
      while (t.buf.length >= 4) {
        const n = t.buf.readUInt32BE(0);
        if (t.buf.length < 4 + n) break;
        const frame = new Uint8Array(t.buf.subarray(4, 4 + n));
        t.buf = t.buf.subarray(4 + n);
        if (!isReady) { isReady = true; readyResolve(); continue; }
        t.pending.shift()?.resolve(frame);
      }
    });
    t.proc.on('exit', (code, signal) => {
      const load = /LOAD_ERROR: (.*)/.exec(t.stderr)?.[1];
      t.exited = new Error(load ?? `C host exited (${signal ?? `status ${code}`})${t.stderr ? `: ${t.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
      if (!isReady) readyReject(t.exited);
      for (const p of t.pending.splice(0)) p.reject(t.exited);
    });
    t.proc.stdin.on('error', () => { /* reported through 'exit' */ });
    await t.ready;
    return t;
  }

  exchange(request: Uint8Array): Promise<Uint8Array> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      const h = Buffer.alloc(4);
      h.writeUInt32BE(request.length);
      this.proc.stdin.write(Buffer.concat([h, request]));
    });
  }

  get pid(): number | undefined { return this.proc.pid; }

  /** Closes stdin (the host closes its sessions and exits) and waits for the exit. */
  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((res) => this.proc.once('exit', () => res()));
    this.proc.stdin.end();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  }
}
