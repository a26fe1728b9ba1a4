// The fuzz's PIN watch (issue 17 §8; the rule "never return a PIN"): at the trusted keypad a
// simulated person types a canary PIN in every other entry that reaches the screen (and cancels
// the others), and every envelope the TEE sends back to the client — answers, error details — is
// searched for that PIN in every encoding the pinpad leak harness knows (test/pinpad/
// pin-encodings.ts: ASCII and UTF-16LE digits, ISO 9564 PIN fields and clear PIN blocks, hex
// text, base64). A hit is a crash: a PIN left the TEE. The canary is 12 digits so that no pattern
// turns up by chance in 10⁶ random answers (the shortest is 6 bytes: the BCD digits).
import type { TeeTransport } from '../../common/tee-transport.ts';
import { ScriptedUiProvider, enterPin, type UiProviders } from '../../tee/index.ts';
import { encodings } from '../pinpad/pin-encodings.ts';

export const CANARY_PIN = '739182504617';

export class PinWatch {
  /** Entries where the person typed the canary, and where they cancelled. */
  typed = 0;
  cancelled = 0;
  private readonly hexes: string[];
  private readonly texts: string[];

  /** `pans`: the PANs the recorded entries name (a clear PIN block is XORed with one). */
  constructor(pans: readonly string[]) {
    const all = pans.map((pan) => encodings(CANARY_PIN, pan));
    this.hexes = [...new Set(all.flatMap((e) => e.hexes))];
    this.texts = [...new Set(all.flatMap((e) => [...e.texts.map((t) => t.toUpperCase()), ...e.base64]))];
  }

  /** The keypad: one fresh simulated person per entry (nothing kept: 10⁶ inputs open many). */
  get ui(): UiProviders {
    return {
      standard: {
        open: (screen, sink) => {
          if ((this.typed + this.cancelled) % 2 === 0) {
            this.typed++;
            return new ScriptedUiProvider().enqueue(enterPin(CANARY_PIN)).open(screen, sink);
          }
          this.cancelled++;
          setImmediate(() => sink.cancel());
          return { show: () => undefined, close: () => undefined };
        },
      },
    };
  }

  /** Which encoding of the canary `bytes` hold (its number in the list, never the PIN), or null. Hex patterns match at any nibble (a
   * BCD PIN shifted by half a byte is still the PIN). */
  find(bytes: Uint8Array): string | null {
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const hex = b.toString('hex').toUpperCase();
    for (const [i, h] of this.hexes.entries()) if (hex.includes(h)) return `byte pattern ${i}`; // its number, not the PIN
    const text = b.toString('latin1');
    const upper = text.toUpperCase();
    for (const [i, t] of this.texts.entries()) if (upper.includes(t.toUpperCase()) || text.includes(t)) return `text pattern ${i}`;
    return null;
  }

  /** The transport the fuzzer talks through: every answer is searched; `leak` hears each hit. */
  watch(inner: TeeTransport, leak: (where: string) => void): TeeTransport {
    return {
      exchange: async (request: Uint8Array) => {
        const answer = await inner.exchange(request);
        const hit = this.find(answer);
        if (hit) leak(hit);
        return answer;
      },
    };
  }
}
