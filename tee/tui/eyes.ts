// What a person sees on a keypad the TA drew (TuiScreen.pixels, 1 bit per pixel, MSB first):
// the text on each key, found by matching the ink against the shapes of the keypad's glyphs
// (proto/as/tui-font.ts) the way a reader recognises a 7 — never from the screen's metadata,
// which carries no labels. Used by the simulated person (./scripted.ts) and to print the keypad
// in the demo. Not a security component: any reader of the pixels can do the same, which is why
// the pixels go only to the TEE's display path (docs/trusted-ui.md).
import { GLYPH_WIDTH, GLYPH_HEIGHT, GLYPH_CHARS, glyphInk } from '../../proto/as/tui-font.ts';
import type { TuiScreen } from './provider.ts';

export interface SeenKey {
  /** TuiKey.position (what a touch by position would report). */
  position: number;
  /** The text read off the key's pixels ('' if nothing legible). */
  text: string;
  /** The key's centre, where a finger goes. */
  x: number;
  y: number;
  rect: { x: number; y: number; width: number; height: number };
}

export const hasPixels = (s: TuiScreen | null | undefined): boolean =>
  !!s && !!s.width && !!s.height && !!s.pixels && s.pixels.length * 8 >= s.width * s.height;

function ink(s: TuiScreen, x: number, y: number): boolean {
  const w = s.width!;
  if (x < 0 || y < 0 || x >= w || y >= s.height!) return false;
  const i = y * w + x;
  return (s.pixels![i >> 3] & (0x80 >> (i & 7))) !== 0;
}

/** Reads the text drawn inside one rectangle (its 1-pixel frame excluded). */
function readRect(s: TuiScreen, rx: number, ry: number, rw: number, rh: number): string {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let y = ry + 1; y < ry + rh - 1; y++) {
    for (let x = rx + 1; x < rx + rw - 1; x++) {
      if (!ink(s, x, y)) continue;
      x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
    }
  }
  if (x1 < 0) return '';
  const scale = Math.round((y1 - y0 + 1) / GLYPH_HEIGHT);
  if (scale < 1) return '';
  // glyphs are GLYPH_WIDTH wide and one column apart; the first glyph's left edge may be blank
  // (a "1"), so the run is placed from its width, centred as the TA centres it
  const chars = Math.max(1, Math.round(((x1 - x0 + 1) / scale + 1) / (GLYPH_WIDTH + 1)));
  const total = (chars * (GLYPH_WIDTH + 1) - 1) * scale;
  const left = rx + Math.floor((rw - total) / 2);
  let text = '';
  for (let k = 0; k < chars; k++) {
    let best = '', bestMiss = Infinity;
    for (let g = 0; g < GLYPH_CHARS.length; g++) {
      let miss = 0;
      for (let row = 0; row < GLYPH_HEIGHT; row++) {
        for (let col = 0; col < GLYPH_WIDTH; col++) {
          // sample the middle of each scaled glyph pixel
          const px = left + (k * (GLYPH_WIDTH + 1) + col) * scale + (scale >> 1);
          const py = y0 + row * scale + (scale >> 1);
          if (ink(s, px, py) !== glyphInk(GLYPH_CHARS.charCodeAt(g), col, row)) miss++;
        }
      }
      if (miss < bestMiss) { bestMiss = miss; best = GLYPH_CHARS[g]; }
    }
    if (bestMiss > 3) return ''; // not a shape the reader knows
    text += best;
  }
  return text;
}

/** Every key of a drawn keypad with the text on it; [] for a screen without pixels. */
export function readKeys(s: TuiScreen): SeenKey[] {
  if (!hasPixels(s)) return [];
  return s.keys.map((k) => {
    const rect = { x: k.x ?? 0, y: k.y ?? 0, width: k.width ?? 0, height: k.height ?? 0 };
    return {
      position: k.position ?? 0, text: readRect(s, rect.x, rect.y, rect.width, rect.height),
      x: rect.x + (rect.width >> 1), y: rect.y + (rect.height >> 1), rect,
    };
  });
}

/** The pixels as text for a terminal: each character is two blocks of `shrink` x `shrink`
 * pixels (half blocks), a block inked if any pixel in it is. */
export function drawAsText(s: TuiScreen, shrink = 1): string {
  if (!hasPixels(s)) return '';
  const block = (bx: number, by: number) => {
    for (let y = by * shrink; y < (by + 1) * shrink; y++) for (let x = bx * shrink; x < (bx + 1) * shrink; x++) if (ink(s, x, y)) return true;
    return false;
  };
  const lines: string[] = [];
  for (let by = 0; by * shrink < s.height!; by += 2) {
    let line = '';
    for (let bx = 0; bx * shrink < s.width!; bx++) {
      const top = block(bx, by), bottom = block(bx, by + 1);
      line += top && bottom ? '█' : top ? '▀' : bottom ? '▄' : ' ';
    }
    lines.push(line.trimEnd());
  }
  return lines.join('\n');
}

/** The pixels as a binary PBM image (Netpbm P4: 1 = ink, rows padded to whole bytes), for a
 * test artifact of what the trusted display showed. */
export function toPbm(s: TuiScreen): Uint8Array {
  if (!hasPixels(s)) return new Uint8Array(0);
  const w = s.width!, h = s.height!, rowBytes = (w + 7) >> 3;
  const head = new TextEncoder().encode(`P4\n${w} ${h}\n`);
  const out = new Uint8Array(head.length + rowBytes * h);
  out.set(head);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (ink(s, x, y)) out[head.length + y * rowBytes + (x >> 3)] |= 0x80 >> (x & 7);
  return out;
}
