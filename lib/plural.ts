/** "1 duplicate", "2 duplicates", "3,053 distinct hashes". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}
