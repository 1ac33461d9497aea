import type { Spec } from './figure.js';

/**
 * Vega-Lite spec -> Vega spec, SVG (vega's headless SVG renderer) and PNG
 * (resvg, no browser). Text is laid out with vega's width estimates; the PNG
 * uses the system's fonts.
 */
export interface Rendered {
  vega: object;
  svg: string;
  png: Buffer;
}

export async function renderSpec(spec: Spec, options: { scale?: number } = {}): Promise<Rendered> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const { Resvg } = await import('@resvg/resvg-js');
  const warnings: string[] = [];
  const compiled = vl.compile(spec as never, { logger: { level: () => 0, warn: (...a: unknown[]) => warnings.push(a.join(' ')), info: () => {}, debug: () => {}, error: (...a: unknown[]) => { throw new Error(a.join(' ')); } } as never }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: options.scale ?? 2 }, background: 'white', font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
  return { vega: compiled, svg, png: Buffer.from(png) };
}

