/**
 * Vega-Lite spec -> SVG text, headless: vega's View with renderer 'none' writes SVG without a
 * canvas or a browser (text widths are estimated).
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
