// The REE's way to the C host: a TeeTransport (ree/tee-client/client.ts) that spawns tt-host
// and carries the same ClientRequest/ClientResponse bytes over its stdio, one frame each way
// (4-byte big-endian length + message). The REE code is unchanged: TeeContext.initialize(transport).
//
// Replies are matched by a transport tag: each well-formed request gets one more `id` field
// (protobuf: the last occurrence wins) carrying a tag unique to this transport; the host echoes
// it and the transport puts the caller's own id back. Most requests are answered at once and in
// order, but an invoke that begins a trusted-UI entry is answered when the TA finishes it, while
// other requests (a Cancel, other sessions) go on.
//
// The secure display channel (docs/trusted-ui.md, tee-c/README.md): with `ui`, the host is
// started with --ui and frames whose length has bit 31 set carry screens to, and touches from,
// the UiProvider given here. They are demultiplexed here and never reach the TeeContext: on a
// device this channel is the TEE's own display/touch driver, which the REE does not see. Sharing
// the pipe keeps one order between screens, touches and client frames.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import type { TeeTransport } from '../common/tee-transport.ts';
import { trusttap } from '../proto/gen/ts/trusttap.js';
import { openOnDisplay, touchPoint, type TuiDisplay, type UiProviders } from '../tee/tui/provider.ts';

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
  /** The trusted UI: without it tui_begin answers NOT_SUPPORTED (as the reference without `ui`). */
  ui?: UiProviders;
  /** Serve clients on this Unix socket path (`tt-host --listen`) instead of stdio: connect() gives
   * one TeeTransport per client. The secure display channel stays on the host's stdio. */
  listen?: string;
}

function hostArgs(o: CHostOptions): string[] {
  const args = ['--data', o.dataDir, '--cache', o.cacheDir, '--time-budget-ms', String(o.timeBudgetMs ?? 5000)];
  if (o.buildDir) args.push('--build', o.buildDir, '--key', o.keyPem ?? '');
  for (const t of o.tas ?? []) args.push('--ta', `${t.name}:${t.uuid}:${t.version}:${t.file}`);
  if (o.ui) args.push('--ui');
  if (o.listen) args.push('--listen', o.listen);
  args.push(...(o.extraArgs ?? []));
  return args;
}

/** Secure display channel messages: [type u8][entry u32 BE][body] (tee-c/src/tt.h TT_UI_*). */
export const UiFrame = { OPEN: 1, SHOW: 2, CLOSE: 3, TOUCH: 16, OK: 17, CLEAR: 18, CANCEL: 19, FAIL: 20, TOUCH_AT: 21 } as const;
const UI_BIT = 0x8000_0000;

type Waiter = { resolve: (b: Uint8Array) => void; reject: (e: Error) => void; id: number };

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do { let b = v & 0x7f; v >>>= 7; if (v) b |= 0x80; out.push(b); } while (v);
  return out;
}

/** Matches answers to requests on one connection to the host: each well-formed request gets the
 * transport's own tag as a last `id` field, the answer's tag finds its caller, whose own id is put
 * back. Shared by the stdio transport and the Unix-socket clients. */
class Matcher {
  private readonly tagged = new Map<number, Waiter>();
  private readonly untagged: Waiter[] = [];
  private nextTag = 1;

  /** The bytes to send for `request`, and the promise of its answer. */
  send(request: Uint8Array, write: (frame: Uint8Array) => void): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      let id: number | null = null;
      try { id = trusttap.tee.v1.ClientRequest.decode(request).id >>> 0; } catch { /* sent as is */ }
      if (id === null) {
        this.untagged.push({ resolve, reject, id: 0 });
        write(request);
        return;
      }
      const tag = this.nextTag++;
      if (this.nextTag > 0x7fff_ffff) this.nextTag = 1;
      this.tagged.set(tag, { resolve, reject, id });
      write(Buffer.concat([request, Buffer.from([0x08, ...varint(tag)])]));
    });
  }

  /** A response: strip the transport tag (the leading `id` field) and restore the caller's id. */
  answer(frame: Uint8Array): void {
    let tag = 0, at = 0;
    if (frame[0] === 0x08) {
      let shift = 0;
      at = 1;
      while (at < frame.length) { const b = frame[at++]; tag += (b & 0x7f) * 2 ** shift; shift += 7; if (!(b & 0x80)) break; }
    }
    let w = tag ? this.tagged.get(tag) : undefined;
    if (w) this.tagged.delete(tag);
    else {
      // Answered without a tag (a request the host could not parse): oldest untagged first.
      w = this.untagged.shift();
      if (!w) { const first = this.tagged.keys().next(); if (first.done) return; w = this.tagged.get(first.value)!; this.tagged.delete(first.value); }
      w.resolve(frame);
      return;
    }
    const rest = frame.subarray(at);
    w.resolve(new Uint8Array(w.id ? Buffer.concat([Buffer.from([0x08, ...varint(w.id)]), rest]) : rest));
  }

  failAll(e: Error): void {
    for (const p of [...this.untagged.splice(0), ...this.tagged.values()]) p.reject(e);
    this.tagged.clear();
  }
}

/** Splits a byte stream into frames (4-byte big-endian length, bit 31 for the display channel). */
function framer(onFrame: (frame: Uint8Array, ui: boolean) => void): (d: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 4) {
      const head = buf.readUInt32BE(0);
      const n = head & ~UI_BIT;
      if (buf.length < 4 + n) break;
      const frame = new Uint8Array(buf.subarray(4, 4 + n));
      buf = buf.subarray(4 + n);
      onFrame(frame, (head & UI_BIT) !== 0);
    }
  };
}

function frameOf(body: Uint8Array, ui = false): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE((body.length | (ui ? UI_BIT : 0)) >>> 0);
  return Buffer.concat([h, body]);
}

export class CHostTransport implements TeeTransport {
  private readonly matcher = new Matcher();
  private ready!: Promise<void>;
  private exited: Error | null = null;
  private exitCode: number | null = null;
  private stderr = '';
  private readonly displays = new Map<number, TuiDisplay>();
  private readonly clients = new Set<CHostSocketClient>();
  private listening: string | null = null;

  private constructor(readonly proc: ChildProcessWithoutNullStreams, private readonly ui?: UiProviders) {}

  /** Starts the host; resolves once it has loaded its TAs, rejects with its load error. */
  static async start(o: CHostOptions): Promise<CHostTransport> {
    const t = new CHostTransport(spawn(o.host, hostArgs(o), { stdio: ['pipe', 'pipe', 'pipe'] }), o.ui);
    let readyResolve!: () => void, readyReject!: (e: Error) => void;
    t.ready = new Promise((res, rej) => { readyResolve = res; readyReject = rej; });
    let isReady = false;
    t.proc.stderr.on('data', (d: Buffer) => {
      t.stderr = (t.stderr + d.toString('utf8')).slice(-8192);
      if (o.log) for (const l of d.toString('utf8').split('\n')) if (l) o.log(l);
    });
    t.proc.stdout.on('data', framer((frame, ui) => {
      if (ui) { t.onUiFrame(frame); return; }
      if (!isReady) { isReady = true; readyResolve(); return; }
      if (t.listening) return; /* with --listen, answers go to the socket clients */
      t.matcher.answer(frame);
    }));
    t.proc.on('exit', (code, signal) => {
      const load = /LOAD_ERROR: (.*)/.exec(t.stderr)?.[1];
      t.exitCode = code;
      // a sanitized host (tee-c/build.ts SANITIZE_CFLAGS) names the error in its SUMMARY line
      const sanitizer = /SUMMARY: \w+Sanitizer: .*|runtime error: .*/.exec(t.stderr)?.[0];
      t.exited = new Error(load ?? `C host exited (${signal ?? `status ${code}`})${sanitizer ? `: ${sanitizer}` : t.stderr ? `: ${t.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
      if (!isReady) readyReject(t.exited);
      t.matcher.failAll(t.exited);
      for (const c of t.clients) c.destroy(t.exited);
      for (const d of t.displays.values()) try { d.close(); } catch { /* ignore */ }
      t.displays.clear();
    });
    t.proc.stdin.on('error', () => { /* reported through 'exit' */ });
    t.listening = o.listen ?? null;
    await t.ready;
    return t;
  }

  private sendFrame(body: Uint8Array, ui = false): void {
    this.proc.stdin.write(frameOf(body, ui));
  }

  private sendUi(type: number, entry: number, body: number[] = []): void {
    if (this.exited) return;
    const m = Buffer.alloc(5 + body.length);
    m[0] = type;
    m.writeUInt32BE(entry, 1);
    Buffer.from(body).copy(m, 5);
    this.sendFrame(m, true);
  }

  /** The secure display driver's side: screens in, the person's actions out. */
  private onUiFrame(f: Uint8Array): void {
    if (f.length < 5 || !this.ui) return;
    const type = f[0];
    const entry = Buffer.from(f.buffer, f.byteOffset, f.length).readUInt32BE(1);
    const body = f.subarray(5);
    if (type === UiFrame.OPEN) {
      let live = true;
      const send = (t: number, b: number[] = []) => { if (live) this.sendUi(t, entry, b); };
      try {
        const screen = trusttap.tee.v1.TuiScreen.decode(body);
        const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return [...b]; };
        const display = openOnDisplay(this.ui, screen, {
          touch: (p) => send(UiFrame.TOUCH, u32(p)),
          touchAt: (x, y) => send(UiFrame.TOUCH_AT, u32(touchPoint(x, y))),
          ok: () => send(UiFrame.OK),
          clear: () => send(UiFrame.CLEAR),
          cancel: () => send(UiFrame.CANCEL),
        });
        this.displays.set(entry, { show: (s) => display.show(s), close: () => { live = false; display.close(); } });
      } catch {
        live = false;
        this.sendUi(UiFrame.FAIL, entry);
      }
    } else if (type === UiFrame.SHOW) {
      try { this.displays.get(entry)?.show(trusttap.tee.v1.TuiScreen.decode(body)); } catch { /* a display failure ends nothing */ }
    } else if (type === UiFrame.CLOSE) {
      const d = this.displays.get(entry);
      this.displays.delete(entry);
      try { d?.close(); } catch { /* a provider failure must not lose the answer */ }
    }
  }

  exchange(request: Uint8Array): Promise<Uint8Array> {
    if (this.exited) return Promise.reject(this.exited);
    if (this.listening) return Promise.reject(new Error('this C host serves clients on its Unix socket: use connect()'));
    return this.matcher.send(request, (f) => this.sendFrame(f));
  }

  /** With `listen`: one more client on the host's Unix socket, with its own sessions (a session
   * is usable only by the connection that opened it). Closing it closes its sessions. */
  async connect(): Promise<CHostSocketClient> {
    if (!this.listening) throw new Error('this C host was started without listen (stdio: one client)');
    if (this.exited) throw this.exited;
    const c = await CHostSocketClient.open(this.listening);
    this.clients.add(c);
    c.onClose(() => this.clients.delete(c));
    return c;
  }

  get pid(): number | undefined { return this.proc.pid; }

  /** Closes stdin (the host closes its sessions and its clients' connections, and exits) and
   * waits for the exit. A host that
   * ends with a sanitizer report (even while closing its sessions) rejects with it. */
  async close(): Promise<void> {
    if (!this.exited) {
      const done = new Promise<void>((res) => this.proc.once('exit', () => res()));
      this.proc.stdin.end();
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(timer);
    }
    if (/Sanitizer|runtime error:/.test(this.stderr) && this.exitCode !== 0) throw this.exited ?? new Error('C host: sanitizer report');
  }
}

/** One client of a C host serving a Unix socket (`tt-host --listen`, issue 15): the same frames
 * as on stdio, on its own connection; the host answers each client on its connection and keeps
 * each client's sessions apart. */
export class CHostSocketClient implements TeeTransport {
  private readonly matcher = new Matcher();
  private closed: Error | null = null;
  private readonly closers: (() => void)[] = [];

  private constructor(private readonly sock: Socket) {
    sock.on('data', framer((frame) => this.matcher.answer(frame)));
    sock.on('error', () => { /* reported through 'close' */ });
    sock.on('close', () => {
      this.closed ??= new Error('C host connection closed');
      this.matcher.failAll(this.closed);
      for (const f of this.closers.splice(0)) f();
    });
  }

  static open(path: string): Promise<CHostSocketClient> {
    return new Promise((resolve, reject) => {
      const sock = createConnection(path);
      sock.once('connect', () => { sock.off('error', reject); resolve(new CHostSocketClient(sock)); });
      sock.once('error', reject);
    });
  }

  exchange(request: Uint8Array): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(this.closed);
    return this.matcher.send(request, (f) => this.sock.write(frameOf(f)));
  }

  onClose(f: () => void): void { this.closers.push(f); }

  destroy(e: Error): void { this.closed ??= e; this.sock.destroy(); }

  /** Ends the connection; the host closes this client's sessions. */
  close(): Promise<void> {
    if (this.sock.destroyed) return Promise.resolve();
    return new Promise((res) => { this.sock.once('close', () => res()); this.sock.end(); });
  }
}
