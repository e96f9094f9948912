import type { InvalidLine } from "@/lib/hashes";

export function InvalidLines({ lines, total }: { lines: InvalidLine[]; total: number }) {
  return (
    <details className="rounded-lg border border-amber-200 bg-amber-50 p-4 dark:border-amber-900 dark:bg-amber-950" open={total <= 10}>
      <summary className="cursor-pointer text-sm font-medium text-amber-900 dark:text-amber-200">
        {total.toLocaleString("en")} input line{total === 1 ? "" : "s"} held no hash
        {lines.length < total && ` (the first ${lines.length.toLocaleString("en")} are listed)`}
      </summary>
      <table className="mt-3 w-full text-left text-sm" data-testid="invalid-lines">
        <thead className="text-amber-900 dark:text-amber-200">
          <tr>
            <th className="py-1 pr-4 font-medium">Line</th>
            <th className="py-1 pr-4 font-medium">Content</th>
            <th className="py-1 font-medium">Reason</th>
          </tr>
        </thead>
        <tbody>
          {lines.map((line) => (
            <tr key={line.line} className="border-t border-amber-200 dark:border-amber-900">
              <td className="py-1 pr-4 tabular-nums">{line.line}</td>
              <td className="max-w-40 truncate py-1 pr-4 font-mono sm:max-w-md" title={line.value}>{line.value}</td>
              <td className="py-1">{line.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
