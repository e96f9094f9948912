/** A Postgres array literal sent as one parameter (Drizzle would expand a JS array into one per element).
 * Only for plain tokens: hex digests, numbers, enum names and pool ids need no quoting. */
export function toPgArray(values: readonly (string | number)[]): string {
  return `{${values.join(",")}}`;
}
