/** Human-readable duration for events and tables: 850ms, 2.5s, 3m05s, 2h01m. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '∞';
  const neg = ms < 0 ? '-' : '';
  const a = Math.abs(ms);
  if (a < 1000) return `${neg}${Math.round(a)}ms`;
  if (a < 59_500) {
    const s = a / 1000;
    return `${neg}${s < 10 ? s.toFixed(1).replace(/\.0$/, '') : Math.round(s)}s`;
  }
  const totalS = Math.round(a / 1000);
  if (totalS < 3600) return `${neg}${Math.floor(totalS / 60)}m${String(totalS % 60).padStart(2, '0')}s`;
  const totalM = Math.round(totalS / 60);
  return `${neg}${Math.floor(totalM / 60)}h${String(totalM % 60).padStart(2, '0')}m`;
}
