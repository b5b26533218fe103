/** A small dependency-free SVG step chart (cumulative totals over time). */
export type Point = { t: number; v: number };

export function LineChart({
  points,
  width = 640,
  height = 220,
  formatValue = (v: number) => String(v),
  testId,
  label,
}: {
  points: Point[];
  width?: number;
  height?: number;
  formatValue?: (v: number) => string;
  testId?: string;
  label: string;
}) {
  const pad = { l: 72, r: 16, t: 12, b: 36 };
  if (points.length === 0) {
    return (
      <div className="chart-empty" data-testid={testId} data-points={0}>
        No data yet.
      </div>
    );
  }
  const ts = points.map((p) => p.t);
  const vs = points.map((p) => p.v);
  const t0 = Math.min(...ts);
  const t1 = Math.max(...ts, t0 + 1);
  const vMax = Math.max(...vs, 1);
  const x = (t: number) => pad.l + ((t - t0) / (t1 - t0)) * (width - pad.l - pad.r);
  const y = (v: number) => height - pad.b - (v / vMax) * (height - pad.t - pad.b);
  let d = `M ${x(points[0].t)} ${y(0)} L ${x(points[0].t)} ${y(points[0].v)}`;
  for (let i = 1; i < points.length; i++) d += ` L ${x(points[i].t)} ${y(points[i - 1].v)} L ${x(points[i].t)} ${y(points[i].v)}`;
  d += ` L ${width - pad.r} ${y(points[points.length - 1].v)}`;
  const time = (t: number) => new Date(t * 1000).toLocaleTimeString();
  return (
    <svg
      className="chart"
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={label}
      data-testid={testId}
      data-points={points.length}
      data-last={points[points.length - 1].v}
    >
      <line x1={pad.l} y1={height - pad.b} x2={width - pad.r} y2={height - pad.b} className="axis" />
      <line x1={pad.l} y1={pad.t} x2={pad.l} y2={height - pad.b} className="axis" />
      <text x={pad.l - 6} y={y(vMax) + 4} textAnchor="end" className="tick">
        {formatValue(vMax)}
      </text>
      <text x={pad.l - 6} y={y(0) + 4} textAnchor="end" className="tick">
        0
      </text>
      <text x={pad.l} y={height - 12} className="tick">
        {time(t0)}
      </text>
      <text x={width - pad.r} y={height - 12} textAnchor="end" className="tick">
        {time(t1)}
      </text>
      <path d={d} className="line" fill="none" />
      {points.map((p, i) => (
        <circle key={i} cx={x(p.t)} cy={y(p.v)} r={3} className="dot">
          <title>
            {time(p.t)}: {formatValue(p.v)}
          </title>
        </circle>
      ))}
    </svg>
  );
}
