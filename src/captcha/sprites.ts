/**
 * Glyph sprites: each character of each bundled font rasterised once and kept as an
 * alpha map that the renderer samples through each glyph's transform.
 *
 * Why: pango re-shapes and cairo re-rasterises text for every new size or rotation
 * matrix (milliseconds per glyph), while sampling a cached alpha map costs microseconds.
 * Sprites are rasterised at a size the captcha hardly ever exceeds, so they are shrunk
 * rather than enlarged and keep sharp edges.
 */
import { createCanvas } from 'canvas';

/** Font size, in pixels, that sprites are rasterised at. */
export const SPRITE_FONT_SIZE = 48;
const SPRITE_SIZE = 96;

export interface GlyphSprite {
  /** Size of the ink rectangle, grown by one pixel each way for anti-aliased edges. */
  width: number;
  height: number;
  /** Alpha (coverage 0-255) of the ink rectangle, row by row: what the renderer samples. */
  alpha: Uint8Array;
  /**
   * Corners of the outermost ink pixels of every row, as x, y pairs relative to the
   * centre of the ink rectangle, reduced to their convex hull: the transformed bounds of
   * these points are the exact bounds of the transformed glyph, much tighter than a
   * rotated rectangle. A linear map takes its extremes at hull vertices, so the hull
   * gives the same bounds as all the corners at a fifth of the work (layout measures
   * every glyph and decoy of every picture).
   */
  edgePoints: Float64Array;
}

const sprites = new Map<string, GlyphSprite>();

/** The sprite of `drawn` in a registered font family; built on first use and kept. */
export function glyphSprite(family: string, drawn: string): GlyphSprite {
  const key = `${family}\u0000${drawn}`;
  const cached = sprites.get(key);
  if (cached) return cached;
  const canvas = createCanvas(SPRITE_SIZE, SPRITE_SIZE);
  const ctx = canvas.getContext('2d');
  ctx.font = `${SPRITE_FONT_SIZE}px ${family}`;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'center';
  ctx.fillStyle = '#000';
  ctx.fillText(drawn, SPRITE_SIZE / 2, SPRITE_SIZE / 2);
  // The ink box comes from the pixels themselves, so layout bounds are exact.
  const alpha = ctx.getImageData(0, 0, SPRITE_SIZE, SPRITE_SIZE).data;
  let left = SPRITE_SIZE;
  let right = -1;
  let top = SPRITE_SIZE;
  let bottom = -1;
  const rows: Array<[y: number, first: number, last: number]> = [];
  for (let y = 0; y < SPRITE_SIZE; y += 1) {
    let first = -1;
    let last = -1;
    for (let x = 0; x < SPRITE_SIZE; x += 1) {
      if ((alpha[(y * SPRITE_SIZE + x) * 4 + 3] as number) === 0) continue;
      if (first < 0) first = x;
      last = x;
    }
    if (first < 0) continue;
    rows.push([y, first, last]);
    left = Math.min(left, first);
    right = Math.max(right, last);
    top = Math.min(top, y);
    bottom = Math.max(bottom, y);
  }
  if (right < 0) throw new Error(`font ${family} has no visible glyph for ${JSON.stringify(drawn)}; are the fonts registered?`);
  const boxLeft = Math.max(0, left - 1);
  const boxTop = Math.max(0, top - 1);
  const width = Math.min(SPRITE_SIZE, right + 2) - boxLeft;
  const height = Math.min(SPRITE_SIZE, bottom + 2) - boxTop;
  const centreX = boxLeft + width / 2;
  const centreY = boxTop + height / 2;
  const corners: Array<[number, number]> = [];
  for (const [y, first, last] of rows) {
    // One pixel of slack each way for the anti-aliased fringe.
    for (const x of [first - 1, last + 2]) corners.push([x - centreX, y - 1 - centreY], [x - centreX, y + 2 - centreY]);
  }
  const inkAlpha = new Uint8Array(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) inkAlpha[y * width + x] = alpha[((boxTop + y) * SPRITE_SIZE + boxLeft + x) * 4 + 3] as number;
  }
  const sprite: GlyphSprite = {
    alpha: inkAlpha,
    width,
    height,
    edgePoints: Float64Array.from(convexHull(corners).flat()),
  };
  sprites.set(key, sprite);
  return sprite;
}

/** The corners of the convex hull of `points`, in order (Andrew's monotone chain). */
function convexHull(points: ReadonlyArray<readonly [number, number]>): Array<readonly [number, number]> {
  const sorted = [...points].sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  const cross = (o: readonly [number, number], a: readonly [number, number], b: readonly [number, number]): number =>
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const chain = (list: ReadonlyArray<readonly [number, number]>): Array<readonly [number, number]> => {
    const hull: Array<readonly [number, number]> = [];
    for (const point of list) {
      while (hull.length >= 2 && cross(hull[hull.length - 2] as readonly [number, number], hull[hull.length - 1] as readonly [number, number], point) <= 0) hull.pop();
      hull.push(point);
    }
    return hull;
  };
  const lower = chain(sorted);
  const upper = chain([...sorted].reverse());
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}
