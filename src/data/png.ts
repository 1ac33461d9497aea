import { decode } from 'fast-png';
import * as zlib from 'node:zlib';

/**
 * PNG decoding (fast-png) behind a structural check that says *where* a file
 * is broken: the chunk walk verifies the signature, that every chunk fits in
 * the file, and each chunk's CRC, and reports the byte offset and chunk of
 * the first problem. Only 8-bit RGB (or fully opaque RGBA) is accepted.
 */

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface RgbImage {
  width: number;
  height: number;
  /** width × height × 3 bytes, row-major, interleaved RGB. */
  rgb: Uint8Array;
}

const crc32: ((data: Uint8Array, value?: number) => number) | undefined = (zlib as unknown as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;

/** Throws `<file>: corrupt PNG: <what> at byte <offset> (...)` on the first structural problem. */
export function checkPngStructure(bytes: Uint8Array, file: string): void {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < SIGNATURE.length || !buf.subarray(0, 8).equals(SIGNATURE)) {
    throw new Error(`${file}: corrupt PNG: bad signature at byte 0 (not a PNG file)`);
  }
  let offset = 8;
  let index = 0;
  let sawEnd = false;
  while (offset < buf.length) {
    if (offset + 8 > buf.length) throw new Error(`${file}: corrupt PNG: truncated chunk header at byte ${offset} (chunk #${index})`);
    const length = buf.readUInt32BE(offset);
    const type = buf.toString('latin1', offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (!/^[A-Za-z]{4}$/.test(type)) throw new Error(`${file}: corrupt PNG: invalid chunk type at byte ${offset + 4} (chunk #${index})`);
    if (end > buf.length) {
      throw new Error(`${file}: corrupt PNG: chunk ${type} #${index} at byte ${offset} needs ${length} data bytes but the file ends at byte ${buf.length} (truncated)`);
    }
    if (crc32) {
      const stored = buf.readUInt32BE(offset + 8 + length);
      const actual = crc32(buf.subarray(offset + 4, offset + 8 + length)) >>> 0;
      if (stored !== actual) throw new Error(`${file}: corrupt PNG: CRC mismatch in chunk ${type} #${index} at byte ${offset}`);
    }
    offset = end;
    index++;
    if (type === 'IEND') {
      sawEnd = true;
      break;
    }
  }
  if (!sawEnd) throw new Error(`${file}: corrupt PNG: no IEND chunk (file truncated at byte ${buf.length})`);
}

/** Decodes an 8-bit RGB PNG. */
export function decodeRgbPng(bytes: Uint8Array, file: string): RgbImage {
  checkPngStructure(bytes, file);
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes, { checkCrc: !crc32 });
  } catch (err) {
    throw new Error(`${file}: corrupt PNG: ${(err as Error).message}`);
  }
  if (png.depth !== 8 || (png.channels !== 3 && png.channels !== 4) || png.palette) {
    throw new Error(`${file}: unsupported PNG layout: ${png.channels} channel(s), ${png.depth}-bit${png.palette ? ', palette' : ''} (expected 8-bit RGB)`);
  }
  const pixels = png.width * png.height;
  if (png.data.length !== pixels * png.channels) {
    throw new Error(`${file}: corrupt PNG: decoded ${png.data.length} bytes for ${png.width}×${png.height}×${png.channels}`);
  }
  if (png.channels === 3) return { width: png.width, height: png.height, rgb: png.data as Uint8Array };
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    if (png.data[p * 4 + 3] !== 255) {
      throw new Error(`${file}: pixel (${p % png.width}, ${Math.floor(p / png.width)}) is not opaque; expected RGB data`);
    }
    rgb[p * 3] = png.data[p * 4]!;
    rgb[p * 3 + 1] = png.data[p * 4 + 1]!;
    rgb[p * 3 + 2] = png.data[p * 4 + 2]!;
  }
  return { width: png.width, height: png.height, rgb };
}
