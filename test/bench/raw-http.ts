// A load generator's HTTP/1.1 client (RFC 9112): one keep-alive connection, one request at a
// time, the request's bytes (request line, headers, body) built once beforehand and written as
// they are; the answer read by its Content-Length. It speaks real HTTP to the real server but
// costs the machine a fraction of node:http's client, whose parser and stream machinery would
// otherwise take much of the CPU the server under test shares on a 2-core machine. Only for
// answers that carry Content-Length (every answer of backend/http/server.ts does).
import { connect, type Socket } from 'node:net';

export interface RawAnswer { status: number; body: Buffer }

/** The bytes of `POST path` with `body` (protobuf), ready to write. */
export function buildPost(path: string, body: Uint8Array, host = '127.0.0.1'): Buffer {
  const head = `POST ${path} HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/x-protobuf\r\ncontent-length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

export class RawHttpConnection {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (a: RawAnswer) => void; reject: (e: Error) => void } | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => { this.buf = this.buf.length ? Buffer.concat([this.buf, c]) : c; this.parse(); });
    const fail = (e: Error) => { const w = this.waiting; this.waiting = null; w?.reject(e); };
    socket.on('error', fail).on('close', () => fail(new Error('connection closed')));
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawHttpConnection> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => { s.off('error', reject); resolve(new RawHttpConnection(s)); });
      s.once('error', reject);
    });
  }

  /** Writes one prepared request and resolves with its answer. */
  send(request: Buffer): Promise<RawAnswer> {
    if (this.waiting) return Promise.reject(new Error('one request at a time on a connection'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  private parse(): void {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0 || !this.waiting) return;
    const head = this.buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!m) { this.waiting.reject(new Error(`answer without content-length: ${head.split('\r\n')[0]}`)); this.waiting = null; return; }
    const total = end + 4 + Number(m[1]);
    if (this.buf.length < total) return;
    const body = this.buf.subarray(end + 4, total);
    this.buf = this.buf.subarray(total);
    const w = this.waiting;
    this.waiting = null;
    w.resolve({ status, body });
  }

  close(): void { this.socket.destroy(); }
}
