import { useLayoutEffect, useMemo, useRef, useState, type PointerEvent } from 'react';
import { downsample, extent, formatTick, nearestIndex, niceTicks, pathOf, type Point } from '../chart.js';

export interface ChartSeries {
  id: string;
  label: string;
  /** A CSS colour, normally `seriesColor(i)` (one of the chart tokens). */
  color: string;
  /** Sorted by x; non-finite values are left out by the caller. */
  points: readonly Point[];
}

export interface LineChartProps {
  series: readonly ChartSeries[];
  /** Names the chart for screen readers, e.g. "loss over steps". */
  label: string;
  xLabel?: string;
  height?: number;
  /** Formats a y value in the hover readout (the axis uses short ticks). */
  formatY?: (y: number) => string;
  'data-testid'?: string;
}

const MARGIN = { top: 10, right: 16, bottom: 28, left: 52 };
/** Markers are drawn while a series is this short, so single points and sparse series show. */
const MARKERS_UP_TO = 40;

/** The colour of the i-th series, from the chart tokens (eight, then they repeat). */
export function seriesColor(i: number): string {
  return `var(--chart-${(i % 8) + 1})`;
}

/**
 * A line chart of one or more series over a numeric x axis (steps), drawn as SVG. Each series is
 * downsampled to the pixel columns it covers (lowest and highest per column), so a 100 000-point
 * history draws as fast as a short one and looks the same. Hovering shows every series' value at
 * the nearest step.
 */
export function LineChart({
  series,
  label,
  xLabel = 'Step',
  height = 240,
  formatY,
  'data-testid': testId,
}: LineChartProps) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  const [hoverX, setHoverX] = useState<number | null>(null);

  useLayoutEffect(() => {
    const el = wrapRef.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const plotW = Math.max(10, width - MARGIN.left - MARGIN.right);
  const plotH = Math.max(10, height - MARGIN.top - MARGIN.bottom);

  const frame = useMemo(() => {
    const ext = extent(series.map((s) => s.points));
    if (!ext) return null;
    const xs = niceTicks(ext.x0, ext.x1, Math.max(2, Math.floor(plotW / 90)), true);
    const ys = niceTicks(ext.y0, ext.y1, Math.max(2, Math.floor(plotH / 45)));
    // Steps start at the data, not at a round number below it: the line starts at the left edge.
    const x0 = ext.x0;
    const x1 = ext.x1 === ext.x0 ? ext.x0 + 1 : ext.x1;
    return { xTicks: xs.ticks.filter((t) => t >= x0 && t <= x1), yTicks: ys.ticks, x0, x1, y0: ys.min, y1: ys.max };
  }, [series, plotW, plotH]);

  const sx = (x: number) => (frame ? MARGIN.left + ((x - frame.x0) / (frame.x1 - frame.x0)) * plotW : 0);
  const sy = (y: number) => (frame ? MARGIN.top + (1 - (y - frame.y0) / (frame.y1 - frame.y0 || 1)) * plotH : 0);

  const paths = useMemo(() => {
    if (!frame || width === 0) return [];
    return series.map((s) => {
      const reduced = downsample(s.points, frame.x0, frame.x1, plotW);
      const px = reduced.map((p) => ({
        x: MARGIN.left + ((p.x - frame.x0) / (frame.x1 - frame.x0)) * plotW,
        y: MARGIN.top + (1 - (p.y - frame.y0) / (frame.y1 - frame.y0 || 1)) * plotH,
      }));
      return { id: s.id, color: s.color, d: pathOf(px), markers: s.points.length <= MARKERS_UP_TO ? px : [] };
    });
  }, [series, frame, width, plotW, plotH]);

  const onMove = (e: PointerEvent<SVGSVGElement>) => {
    if (!frame) return;
    const rect = e.currentTarget.getBoundingClientRect();
    const px = e.clientX - rect.left;
    if (px < MARGIN.left - 4 || px > MARGIN.left + plotW + 4) return setHoverX(null);
    setHoverX(frame.x0 + ((px - MARGIN.left) / plotW) * (frame.x1 - frame.x0));
  };

  // What the pointer is over: the nearest point of each series (to the step under the pointer).
  const readout =
    hoverX === null || !frame
      ? null
      : series
          .map((s) => ({ s, i: nearestIndex(s.points, hoverX) }))
          .filter((r) => r.i >= 0)
          .map(({ s, i }) => ({ s, p: s.points[i]! }));
  const readoutX = readout?.length
    ? readout.reduce(
        (best, r) => (Math.abs(r.p.x - hoverX!) < Math.abs(best - hoverX!) ? r.p.x : best),
        readout[0]!.p.x,
      )
    : null;

  const total = series.reduce((n, s) => n + s.points.length, 0);
  return (
    <div className="chart" ref={wrapRef} data-testid={testId} data-points={total}>
      {!frame ? (
        <p className="chart-empty muted small">No finite values to draw.</p>
      ) : (
        width > 0 && (
          <svg
            width={width}
            height={height}
            role="img"
            aria-label={label}
            onPointerMove={onMove}
            onPointerLeave={() => setHoverX(null)}
            className="chart-svg"
          >
            <g className="chart-axes" aria-hidden="true">
              {frame.yTicks.map((t) => (
                <g key={`y${t}`}>
                  <line x1={MARGIN.left} x2={MARGIN.left + plotW} y1={sy(t)} y2={sy(t)} />
                  <text x={MARGIN.left - 6} y={sy(t)} dy="0.32em" textAnchor="end">
                    {formatTick(t)}
                  </text>
                </g>
              ))}
              {frame.xTicks.map((t) => (
                <text key={`x${t}`} x={sx(t)} y={MARGIN.top + plotH + 18} textAnchor="middle">
                  {formatTick(t)}
                </text>
              ))}
              <text x={MARGIN.left + plotW} y={height - 2} textAnchor="end" className="chart-axis-label">
                {xLabel}
              </text>
            </g>
            {paths.map((p) => (
              <g key={p.id} data-series={p.id}>
                <path d={p.d} className="chart-line" style={{ stroke: p.color }} />
                {p.markers.map((m, i) => (
                  <circle key={i} cx={m.x} cy={m.y} r={2.5} style={{ fill: p.color }} />
                ))}
              </g>
            ))}
            {readoutX !== null && (
              <line
                className="chart-crosshair"
                x1={sx(readoutX)}
                x2={sx(readoutX)}
                y1={MARGIN.top}
                y2={MARGIN.top + plotH}
                aria-hidden="true"
              />
            )}
          </svg>
        )
      )}
      {readout && readout.length > 0 && readoutX !== null && (
        <div
          className="chart-readout"
          style={sx(readoutX) > width / 2 ? { right: width - sx(readoutX) + 8 } : { left: sx(readoutX) + 8 }}
        >
          <p className="chart-readout-title">
            {xLabel} {String(readoutX)}
          </p>
          {readout.map(({ s, p }) => (
            <p key={s.id} className="chart-readout-row">
              <span className="chart-swatch" style={{ background: s.color }} aria-hidden="true" />
              <span className="chart-readout-label">{s.label}</span>
              <span className="mono">{formatY ? formatY(p.y) : formatTick(p.y)}</span>
              {p.x !== readoutX && <span className="muted"> @ {p.x}</span>}
            </p>
          ))}
        </div>
      )}
    </div>
  );
}

/** The series' names with their colours, under a chart of several series. */
export function ChartLegend({ series }: { series: readonly Pick<ChartSeries, 'id' | 'label' | 'color'>[] }) {
  return (
    <ul className="chart-legend">
      {series.map((s) => (
        <li key={s.id}>
          <span className="chart-swatch" style={{ background: s.color }} aria-hidden="true" />
          {s.label}
        </li>
      ))}
    </ul>
  );
}
