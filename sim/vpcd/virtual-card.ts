// SIMULATOR ONLY. A simulated card plugged into a real PC/SC stack through vsmartcard's vpcd
// driver: pcscd's vpcd reader listens on TCP (35963 for "Virtual PCD 00 00"); a virtual card
// connects to it and answers frames of a 2-byte big-endian length and a payload. A 1-byte
// payload is a control message (0 power off, 1 power on, 2 reset, 4 send ATR); anything else
// is a C-APDU, answered with the R-APDU. Closing the connection takes the card out of the reader.
import { connect, type Socket } from 'node:net';
import { CardTornError, type SimulatedCard } from '../cards/card.ts';

export const VPCD_PORT = 35963;

export class VpcdVirtualCard {
  private socket: Socket | undefined;
  private buffer = Buffer.alloc(0);

  constructor(readonly card: SimulatedCard, readonly port = VPCD_PORT, readonly host = '127.0.0.1') {}

  /** Put the card in the reader. Resolves once connected to vpcd. */
  insert(): Promise<void> {
    if (this.socket) return Promise.resolve();
    this.card.tap();
    return new Promise((resolve, reject) => {
      const s = connect({ port: this.port, host: this.host }, () => { s.setNoDelay(true); resolve(); });
      s.on('error', (e) => { this.socket = undefined; reject(e); });
      s.on('data', (d: Buffer) => this.onData(d));
      s.on('close', () => { if (this.socket === s) this.socket = undefined; });
      this.socket = s;
    });
  }

  /** Take the card out of the reader. */
  remove(): void {
    this.socket?.destroy();
    this.socket = undefined;
    this.buffer = Buffer.alloc(0);
  }

  private send(payload: Uint8Array): void {
    const frame = Buffer.alloc(2 + payload.length);
    frame.writeUInt16BE(payload.length, 0);
    frame.set(payload, 2);
    this.socket?.write(frame);
  }

  private onData(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    while (this.buffer.length >= 2) {
      const len = this.buffer.readUInt16BE(0);
      if (this.buffer.length < 2 + len) return;
      const payload = new Uint8Array(this.buffer.subarray(2, 2 + len));
      this.buffer = this.buffer.subarray(2 + len);
      if (len === 1) this.control(payload[0]!);
      else this.apdu(payload);
    }
  }

  private control(code: number): void {
    if (code === 1 || code === 2) this.card.tap();   // power on / reset: a fresh activation
    else if (code === 4) this.send(this.card.atr);    // ATR request
    // 0 = power off: nothing to answer
  }

  private apdu(cmd: Uint8Array): void {
    try {
      this.send(this.card.process(cmd));
    } catch (e) {
      if (e instanceof CardTornError) { this.remove(); return; }
      this.send(Uint8Array.of(0x6f, 0x00)); // no precise diagnosis
    }
  }
}
