// One request limit as a labelled bar: how much of it is used, turning amber near the limit and red at it.

const n = (x: number) => x.toLocaleString("en");

export function UsageMeter({ label, used, limit, testId }: { label: string; used: number; limit: number; testId: string }) {
  const share = limit > 0 ? Math.min(used / limit, 1) : 1;
  const tone = share >= 1 ? "bg-red-600 dark:bg-red-500" : share >= 0.8 ? "bg-amber-500" : "bg-blue-700 dark:bg-blue-400";
  return (
    <div data-testid={testId}>
      <div className="flex items-baseline justify-between gap-2 text-sm">
        <span className="font-medium">{label}</span>
        <span className="tabular-nums text-slate-600 dark:text-slate-300">
          <span data-testid="used">{n(used)}</span> / <span data-testid="limit">{n(limit)}</span>
        </span>
      </div>
      <div
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={limit}
        aria-valuenow={Math.min(used, limit)}
        aria-valuetext={`${n(used)} of ${n(limit)} requests`}
        className="mt-1.5 h-2 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800"
      >
        <div className={`h-full rounded-full ${tone}`} style={{ width: `${share * 100}%` }} />
      </div>
    </div>
  );
}
