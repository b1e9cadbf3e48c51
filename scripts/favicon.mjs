// Regenerates public/favicon.ico from public/favicon.svg: `node scripts/favicon.mjs`. Chromium
// draws the SVG at 16, 32 and 48 px and the PNGs go into one ICO file, served at /favicon.ico,
// which browsers ask for on answers that name no icon (JSON, /openapi.json).
import { Buffer } from 'node:buffer';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const publicDir = join(fileURLToPath(import.meta.url), '../../public');
const svg = readFileSync(join(publicDir, 'favicon.svg'), 'utf8');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const images = [];
for (const size of [16, 32, 48]) {
  const page = await browser.newPage({ viewport: { width: size, height: size } });
  await page.setContent(`<body style="margin:0">${svg.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body>`);
  images.push({ size, png: await page.screenshot({ omitBackground: true }) });
  await page.close();
}
await browser.close();

// ICO with PNG images: a 6-byte header (type 1 = icon, the count), a 16-byte entry per image
// (width, height, planes 1, 32 bits per pixel, byte length, offset), then the PNG data.
const header = Buffer.alloc(6);
header.writeUInt16LE(1, 2);
header.writeUInt16LE(images.length, 4);
let offset = header.length + 16 * images.length;
const entries = images.map(({ size, png }) => {
  const entry = Buffer.alloc(16);
  entry.writeUInt8(size, 0);
  entry.writeUInt8(size, 1);
  entry.writeUInt16LE(1, 4);
  entry.writeUInt16LE(32, 6);
  entry.writeUInt32LE(png.length, 8);
  entry.writeUInt32LE(offset, 12);
  offset += png.length;
  return entry;
});
writeFileSync(join(publicDir, 'favicon.ico'), Buffer.concat([header, ...entries, ...images.map((i) => i.png)]));
