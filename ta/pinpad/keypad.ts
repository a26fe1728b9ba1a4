// Draws the keypad into the screen's own pixels (GlobalPlatform TEE TUI model: the TA supplies
// the key images), so the display provider gets a bitmap and key rectangles without labels and
// answers with touch coordinates only. The pixel format is TuiScreen.pixels (proto/tee.proto):
// 1 bit per pixel, MSB first, rows packed. Glyphs: proto/as/tui-font.ts.
import { GLYPH_WIDTH, GLYPH_HEIGHT, glyphInk } from "../../proto/as/tui-font";
import { TuiScreen, TuiKey } from "../../proto/gen/as/tee";

/** Key positions after the ten digit keys. */
export const KEY_CLEAR: u32 = 10;
export const KEY_OK: u32 = 11;
export const KEY_CANCEL: u32 = 12;
export const KEY_COUNT: i32 = 13;

class Bitmap {
  pixels: Uint8Array;
  constructor(public width: i32, public height: i32) {
    this.pixels = new Uint8Array((width * height + 7) >> 3);
  }
  set(x: i32, y: i32): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = y * this.width + x;
    this.pixels[i >> 3] |= <u8>((<i32>0x80) >> (i & 7));
  }
  frame(x: i32, y: i32, w: i32, h: i32): void {
    for (let i = 0; i < w; i++) { this.set(x + i, y); this.set(x + i, y + h - 1); }
    for (let j = 0; j < h; j++) { this.set(x, y + j); this.set(x + w - 1, y + j); }
  }
  /** `s` centred in the rectangle, each glyph pixel a scale x scale block, one column apart. */
  text(s: string, x: i32, y: i32, w: i32, h: i32, scale: i32): void {
    const tw = (s.length * (GLYPH_WIDTH + 1) - 1) * scale;
    const x0 = x + (w - tw) / 2;
    const y0 = y + (h - GLYPH_HEIGHT * scale) / 2;
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      for (let row = 0; row < GLYPH_HEIGHT; row++) {
        for (let col = 0; col < GLYPH_WIDTH; col++) {
          if (!glyphInk(c, col, row)) continue;
          const px = x0 + (k * (GLYPH_WIDTH + 1) + col) * scale;
          const py = y0 + row * scale;
          for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) this.set(px + dx, py + dy);
        }
      }
    }
  }
}

function addKey(s: TuiScreen, b: Bitmap, position: u32, row: u32, column: u32, x: i32, y: i32, w: i32, h: i32, label: string, scale: i32): void {
  const k = new TuiKey();
  k.position = position;
  k.row = row;
  k.column = column;
  // inset by 2 so neighbouring keys have a visible gap; the whole inset box answers touches
  k.x = <u32>(x + 2); k.y = <u32>(y + 2); k.width = <u32>(w - 4); k.height = <u32>(h - 4);
  b.frame(x + 2, y + 2, w - 4, h - 4);
  b.text(label, x + 2, y + 2, w - 4, h - 4, scale);
  s.keys.push(k);
}

/** Draws the keys: standard, 3 columns (digit keys 0..8 in three rows, then CLEAR, digit key 9,
 * OK, then CANCEL across the bottom); accessible, 2 columns of large keys (digit keys 0..9 in
 * five rows, then CLEAR and OK, then CANCEL). digitAt[position] is the digit of a digit key. */
export function drawKeypad(s: TuiScreen, digitAt: Uint8Array, accessible: bool): void {
  const cols = accessible ? 2 : 3;
  const cw = accessible ? 72 : 48;
  const ch = accessible ? 48 : 40;
  const digitRows = accessible ? 5 : 3;
  const rows = digitRows + 2;
  const b = new Bitmap(cols * cw, rows * ch);
  const scale = accessible ? 4 : 3;
  for (let p = 0; p < 10; p++) {
    let row = p / cols, col = p % cols;
    if (!accessible && p == 9) { row = 3; col = 1; }
    addKey(s, b, <u32>p, <u32>row, <u32>col, col * cw, row * ch, cw, ch, String.fromCharCode(48 + <i32>digitAt[p]), scale);
  }
  addKey(s, b, KEY_CLEAR, <u32>(rows - 2), 0, 0, (rows - 2) * ch, cw, ch, "CLEAR", 1);
  addKey(s, b, KEY_OK, <u32>(rows - 2), <u32>(cols - 1), (cols - 1) * cw, (rows - 2) * ch, cw, ch, "OK", 2);
  addKey(s, b, KEY_CANCEL, <u32>(rows - 1), 0, 0, (rows - 1) * ch, cols * cw, ch, "CANCEL", 2);
  s.width = <u32>b.width;
  s.height = <u32>b.height;
  s.pixels = b.pixels;
  s.columns = <u32>cols;
}

/** The key under a touch at (x, y), or -1 between keys and outside the keypad. */
export function keyAt(s: TuiScreen, x: u32, y: u32): i32 {
  for (let i = 0; i < s.keys.length; i++) {
    const k = s.keys[i];
    if (x >= k.x && x < k.x + k.width && y >= k.y && y < k.y + k.height) return <i32>k.position;
  }
  return -1;
}
