/** Hand-written SVG: no chart library, so the output is small, diffable and renders on GitHub. */

export interface Bar {
  label: string;
  value: number | null;
  /** chunkvault bars are drawn solid; baselines and device limits in their own colours. */
  kind: 'chunkvault' | 'baseline' | 'device';
}

export interface BarGroup {
  label: string;
  bars: Bar[];
}

export interface Grid {
  title: string;
  rowLabel: string;
  colLabel: string;
  rows: number[];
  cols: number[];
  /** values[r][c] in MB/s, null for a cell not measured. */
  values: (number | null)[][];
}

const COLORS = { chunkvault: '#2b6cb0', baseline: '#a0aec0', device: '#38a169' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

function text(x: number, y: number, s: string, extra = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${extra}>${esc(s)}</text>`;
}

/** Grouped vertical bars: one group per phase, chunkvault first, then baselines and device limit. */
function barChart(title: string, groups: BarGroup[], top: number, width: number): { svg: string; height: number } {
  const h = 300;
  const left = 60;
  const plotW = width - left - 20;
  const plotTop = top + 30;
  const plotH = h - 110;
  const max = Math.max(1, ...groups.flatMap((g) => g.bars.map((b) => b.value ?? 0)));
  const nice = niceCeil(max);
  const out: string[] = [text(left, top + 16, title, 'font-size="15" font-weight="bold"')];
  for (let i = 0; i <= 4; i++) {
    const v = (nice * i) / 4;
    const y = plotTop + plotH - (v / nice) * plotH;
    out.push(`<line x1="${left}" y1="${y.toFixed(1)}" x2="${left + plotW}" y2="${y.toFixed(1)}" stroke="#e2e8f0"/>`);
    out.push(text(left - 6, y + 4, fmt(v), 'text-anchor="end" font-size="10"'));
  }
  out.push(text(14, plotTop + plotH / 2, 'MB/s', `font-size="11" transform="rotate(-90 14 ${plotTop + plotH / 2})" text-anchor="middle"`));
  const groupW = plotW / Math.max(1, groups.length);
  groups.forEach((g, gi) => {
    const gx = left + gi * groupW;
    const barW = Math.min(40, (groupW - 20) / Math.max(1, g.bars.length));
    const startX = gx + (groupW - barW * g.bars.length) / 2;
    g.bars.forEach((b, bi) => {
      const x = startX + bi * barW;
      const v = b.value ?? 0;
      const bh = (v / nice) * plotH;
      const y = plotTop + plotH - bh;
      if (b.value !== null) {
        out.push(`<rect x="${(x + 2).toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 4).toFixed(1)}" height="${bh.toFixed(1)}" fill="${COLORS[b.kind]}"><title>${esc(`${g.label} / ${b.label}: ${fmt(v)} MB/s`)}</title></rect>`);
        out.push(text(x + barW / 2, y - 3, fmt(v), 'text-anchor="middle" font-size="9"'));
      } else out.push(text(x + barW / 2, plotTop + plotH - 3, 'n/a', 'text-anchor="middle" font-size="9" fill="#718096"'));
      const ly = plotTop + plotH + 10;
      out.push(text(x + barW / 2, ly, b.label, `font-size="9" text-anchor="end" transform="rotate(-40 ${(x + barW / 2).toFixed(1)} ${ly})"`));
    });
    out.push(text(gx + groupW / 2, plotTop + plotH + 75, g.label, 'text-anchor="middle" font-size="12" font-weight="bold"'));
  });
  out.push(`<line x1="${left}" y1="${plotTop + plotH}" x2="${left + plotW}" y2="${plotTop + plotH}" stroke="#4a5568"/>`);
  const legend = (['chunkvault', 'baseline', 'device'] as const).map((k, i) => `<rect x="${width - 330 + i * 105}" y="${top + 6}" width="10" height="10" fill="${COLORS[k]}"/>${text(width - 316 + i * 105, top + 15, k === 'device' ? 'device limit' : k, 'font-size="11"')}`);
  out.push(...legend);
  return { svg: out.join('\n'), height: h };
}

/** A heat map of MB/s over workers × disk concurrency, darker = faster, value in each cell. */
function heatmap(g: Grid, top: number, x0: number): { svg: string; height: number; width: number } {
  const cell = 56;
  const left = x0 + 70;
  const gridTop = top + 44;
  const vals = g.values.flat().filter((v): v is number => v !== null);
  const lo = Math.min(...vals, Infinity);
  const hi = Math.max(...vals, -Infinity);
  const out: string[] = [text(x0, top + 16, g.title, 'font-size="13" font-weight="bold"')];
  out.push(text(left + (cell * g.cols.length) / 2, top + 34, g.colLabel, 'text-anchor="middle" font-size="11"'));
  g.cols.forEach((c, ci) => out.push(text(left + ci * cell + cell / 2, gridTop - 4, String(c), 'text-anchor="middle" font-size="11"')));
  g.rows.forEach((r, ri) => {
    out.push(text(left - 8, gridTop + ri * cell + cell / 2 + 4, String(r), 'text-anchor="end" font-size="11"'));
    g.cols.forEach((_c, ci) => {
      const v = g.values[ri]?.[ci] ?? null;
      const t = v === null || hi <= lo ? 0.5 : (v - lo) / (hi - lo);
      const fill = v === null ? '#edf2f7' : `rgb(${Math.round(235 - 190 * t)},${Math.round(244 - 136 * t)},${Math.round(255 - 79 * t)})`;
      const x = left + ci * cell;
      const y = gridTop + ri * cell;
      out.push(`<rect x="${x}" y="${y}" width="${cell - 2}" height="${cell - 2}" fill="${fill}"/>`);
      out.push(text(x + cell / 2 - 1, y + cell / 2 + 4, v === null ? '—' : fmt(v), `text-anchor="middle" font-size="11" fill="${t > 0.6 ? '#fff' : '#1a202c'}"`));
    });
  });
  out.push(text(x0 + 8, gridTop + (cell * g.rows.length) / 2, g.rowLabel, `font-size="11" text-anchor="middle" transform="rotate(-90 ${x0 + 8} ${gridTop + (cell * g.rows.length) / 2})"`));
  return { svg: out.join('\n'), height: 50 + cell * g.rows.length + 10, width: 90 + cell * g.cols.length };
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** The whole chart: MB/s per phase with baselines beside it, then one heat map per swept operation. */
export function renderSvg(title: string, groups: BarGroup[], grids: Grid[]): string {
  const width = Math.max(720, 160 + groups.reduce((a, g) => a + g.bars.length * 40 + 30, 0));
  const parts: string[] = [text(20, 24, title, 'font-size="16" font-weight="bold"')];
  let y = 36;
  const bars = barChart('MB/s per phase (median; fsync included)', groups, y, width);
  parts.push(bars.svg);
  y += bars.height;
  let x = 20;
  let rowH = 0;
  for (const g of grids) {
    const hm = heatmap(g, y, x);
    parts.push(hm.svg);
    x += hm.width + 40;
    rowH = Math.max(rowH, hm.height);
  }
  y += rowH + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`;
}
