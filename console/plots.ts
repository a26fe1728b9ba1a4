// Plots (uPlot): authorizations per minute by outcome, decline reasons per minute, attestation
// verdicts over time — the last hour, refreshed every 10 s. Each plot has a text summary beside
// it for whoever cannot see it.
import { useState, useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { api } from './api.ts';
import { html, ErrorLine } from './ui.ts';

const COLORS = ['#116329', '#a40e26', '#7d4e00', '#0550ae', '#8250df', '#bc4c00', '#1b7c83', '#57606a', '#cf222e', '#4d2d00'];

interface Series { label: string; values: number[] }

/** Per-bucket series from rows of (bucketMs, key, n). */
function series<T extends { bucketMs: number; n: number }>(rows: T[], key: (r: T) => string, from: number, to: number, bucket: number): { x: number[]; ys: Series[] } {
  const x: number[] = [];
  for (let t = from; t < to; t += bucket) x.push(t / 1000);
  const by = new Map<string, number[]>();
  for (const r of rows) {
    const k = key(r);
    if (!by.has(k)) by.set(k, x.map(() => 0));
    by.get(k)![Math.floor((r.bucketMs - from) / bucket)] += r.n;
  }
  return { x, ys: [...by.entries()].sort().map(([label, values]) => ({ label, values })) };
}

function Plot({ title, x, ys, colors }: { title: string; x: number[]; ys: Series[]; colors?: Record<string, string> }) {
  const el = useRef<HTMLDivElement>(null);
  const id = title.replace(/\W+/g, '-').toLowerCase();
  const color = (s: Series, i: number) => colors?.[s.label] ?? COLORS[i % COLORS.length];
  useEffect(() => {
    if (!el.current) return;
    const plot = new uPlot({
      width: 760, height: 200, legend: { show: false },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [{}, { label: 'per minute' }],
      series: [{}, ...ys.map((s, i) => ({ label: s.label, stroke: color(s, i), width: 2, points: { show: false } }))],
    }, [x, ...ys.map((s) => s.values)], el.current);
    return () => plot.destroy();
  }, [JSON.stringify([x, ys])]);
  const totals = ys.map((s) => ({ label: s.label, n: s.values.reduce((a, b) => a + b, 0) }));
  return html`<figure class="plot" aria-labelledby=${`${id}-cap`}>
    <figcaption id=${`${id}-cap`}><strong>${title}</strong></figcaption>
    <ul class="legend" aria-label=${`${title}: totals`}>${totals.length ? totals.map((t, i) => html`<li><span class="swatch" style=${{ background: color(ys[i], i) }}></span>${t.label}: ${t.n}</li>`) : html`<li>nothing in this hour</li>`}</ul>
    <div ref=${el} role="img" aria-label=${`${title}, per minute over the last hour: ${totals.map((t) => `${t.label} ${t.n}`).join(', ') || 'none'}`}></div>
  </figure>`;
}

export function Plots() {
  const [s, setS] = useState<any>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    const load = () => api('GET', 'stats?minutes=60').then((x) => { setS(x); setError(''); }, (e) => setError(e.message));
    load();
    const t = setInterval(load, 10_000);
    return () => clearInterval(t);
  }, []);
  if (!s) return html`<section><h2>Plots</h2><${ErrorLine} error=${error} /><p>Loading…</p></section>`;
  const outcomes = series(s.payments, (r: any) => r.outcome, s.fromMs, s.toMs, s.bucketMs);
  const reasons = series(s.payments.filter((r: any) => r.outcome === 'declined'), (r: any) => r.reason, s.fromMs, s.toMs, s.bucketMs);
  const verdicts = series(s.verdicts, (r: any) => r.verdict, s.fromMs, s.toMs, s.bucketMs);
  return html`<section aria-labelledby="plots-h">
    <h2 id="plots-h">Plots — the last hour</h2>
    <${ErrorLine} error=${error} />
    <${Plot} title="Authorizations per minute by outcome" x=${outcomes.x} ys=${outcomes.ys} colors=${{ approved: '#116329', declined: '#a40e26', reversed: '#7d4e00' }} />
    <${Plot} title="Decline reasons" x=${reasons.x} ys=${reasons.ys} />
    <${Plot} title="Attestation verdicts" x=${verdicts.x} ys=${verdicts.ys} colors=${{ allow: '#116329', 'step-up': '#7d4e00', suspend: '#a40e26' }} />
  </section>`;
}
