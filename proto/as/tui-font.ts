// The glyphs of the trusted keypad's pixels (TuiScreen.pixels, docs/trusted-ui.md): a 5x7 bitmap
// font for the ten digits and the letters of OK, CLEAR and CANCEL. Part of the screen contract,
// not of any runtime: the pinpad TA draws its keys with it, and the tests' simulated person reads
// the keys by matching the same shapes, as a person knows what a 7 looks like. Plain code that is
// valid AssemblyScript and TypeScript both (strings and i32 arithmetic only), so there is one copy.

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
/** The characters drawn, in the order of GLYPH_ROWS. */
export const GLYPH_CHARS = "0123456789OKCLEARN";
/** Each glyph as 7 rows of 5 pixels ('#' ink), top to bottom. */
export const GLYPH_ROWS: string[] = [
  ".###.#...##..###.#.###..##...#.###.", // 0
  "..#...##....#....#....#....#...###.", // 1
  ".###.#...#....#...#...#...#...#####", // 2
  "#####...#...#.....#.....##...#.###.", // 3
  "...#...##..#.#.#..#.#####...#....#.", // 4
  "######....####.....#....##...#.###.", // 5
  "..##..#...#....####.#...##...#.###.", // 6
  "#####....#...#...#...#....#....#...", // 7
  ".###.#...##...#.###.#...##...#.###.", // 8
  ".###.#...##...#.####....#...#..##..", // 9
  ".###.#...##...##...##...##...#.###.", // O
  "#...##..#.#.#..##...#.#..#..#.#...#", // K
  ".###.#...##....#....#....#...#.###.", // C
  "#....#....#....#....#....#....#####", // L
  "######....#....####.#....#....#####", // E
  ".###.#...##...#######...##...##...#", // A
  "####.#...##...#####.#.#..#..#.#...#", // R
  "#...###..##.#.##..###...##...##...#", // N
];

/** True when the glyph of `c` has ink at (col, row); false for characters without a glyph. */
export function glyphInk(c: i32, col: i32, row: i32): bool {
  const g = GLYPH_CHARS.indexOf(String.fromCharCode(c));
  if (g < 0 || col < 0 || col >= GLYPH_WIDTH || row < 0 || row >= GLYPH_HEIGHT) return false;
  return GLYPH_ROWS[g].charCodeAt(row * GLYPH_WIDTH + col) == 35;
}
