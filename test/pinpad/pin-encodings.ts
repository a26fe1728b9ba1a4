// Every way a PIN could be written down, for the leak harness (test/pinpad/leak.test.ts) and the
// back end's "no clear PAN or PIN" check (test/backend/authorization.test.ts): byte patterns as
// upper-case hex, texts (matched case-insensitively) and base64 texts (matched as they are).
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

/** Every way the PIN could be written down, as hex patterns (upper case) and text. */
export function encodings(pin: string, pan: string): { hexes: string[]; texts: string[]; base64: string[] } {
  const n = pin.length.toString(16).toUpperCase();
  const field = (c: string, fill: string) => (c + n + pin).padEnd(16, fill);
  const panField = '0000' + pan.slice(-13, -1);
  const f0 = field('0', 'F');
  const clear0 = hex(Uint8Array.from(Buffer.from(f0, 'hex'), (b, i) => b ^ Buffer.from(panField, 'hex')[i]));
  // UnionPay SM4: format 0 widened to 16 bytes, PAN field = 20 zero nibbles || 12 PAN digits.
  const sm4Field = (('0' + n + pin).padEnd(32, 'F'));
  const sm4Pan = Buffer.from('0'.repeat(20) + pan.slice(-13, -1), 'hex');
  const sm4Clear = hex(Uint8Array.from(Buffer.from(sm4Field, 'hex'), (b, i) => b ^ sm4Pan[i]));
  const hexes = [
    hex(Buffer.from(pin, 'ascii')), // ASCII digits
    pin.split('').map((d) => '0' + d).join(''), // digit values, one per byte
    f0, field('2', 'F'), clear0, // formats 0/2 PIN field, format 0 clear PIN block
    field('4', 'A'), // format 4 PIN field (its first 8 bytes; the rest is random)
    sm4Field, sm4Clear, sm4Clear.slice(16), // UnionPay SM4 PIN field and clear block (and its PAN half)
  ];
  // AssemblyScript strings are UTF-16LE: a PIN held or logged as a string inside a TA.
  hexes.push(hex(Buffer.from(pin, 'utf16le')));
  // The hex text of the ASCII digits ("3739..."), as bytes (ASCII or UTF-16LE) and as text.
  const asciiHex = hex(Buffer.from(pin, 'ascii'));
  hexes.push(hex(Buffer.from(asciiHex, 'ascii')), hex(Buffer.from(asciiHex, 'utf16le')));
  // base64 of every byte pattern above: the text, and its ASCII bytes.
  const b64 = [...new Set(hexes.filter((h) => h.length >= 6).flatMap((h) => base64Cores(Buffer.from(h, 'hex'))))];
  hexes.push(...b64.map((t) => hex(Buffer.from(t, 'ascii'))));
  // Bare BCD at any nibble alignment: only for canaries long enough not to turn up by chance.
  if (pin.length >= 8) hexes.push(pin);
  const texts = [pin, asciiHex, ...(pin.length >= 8 ? [] : [f0, clear0, field('4', 'A'), sm4Field, sm4Clear])];
  return { hexes: hexes.filter((h) => h.length >= 6), texts, base64: b64 };
}

/** The part of the base64 (and base64url) text of `b` that does not depend on the bytes around
 *  it, for each of the three positions `b` can start at in a longer encoded string: encoded
 *  between 0x00 fillers and between 0xFF fillers, the characters that come out the same in both
 *  depend on `b` alone; the longest run of them, when it has 4 characters or more. */
export function base64Cores(b: Buffer): string[] {
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const lo = Buffer.concat([Buffer.alloc(k, 0x00), b, Buffer.alloc(2, 0x00)]).toString('base64');
    const hi = Buffer.concat([Buffer.alloc(k, 0xff), b, Buffer.alloc(2, 0xff)]).toString('base64');
    let best = '', run = '';
    for (let i = 0; i < lo.length; i++) {
      run = lo[i] === hi[i] ? run + lo[i] : '';
      if (run.length > best.length) best = run;
    }
    if (best.length >= 4) out.push(best, best.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

