// Makes what VirusTotal sent storable in PostgreSQL: we paid for the answer, so its content must never be refused.
//
// jsonb refuses the escape \u0000 and unpaired UTF-16 surrogates ("\ud800") in any string or key, and text
// columns refuse NUL: each becomes U+FFFD. Deep nesting is refused too, by JSON.stringify (V8 gives up near
// 4,000 levels) and by jsonb (max_stack_depth, somewhere past 10,000): a container nested deeper than
// MAX_JSON_DEPTH becomes the string TOO_DEEP. That bound also keeps the walk's own recursion shallow.

export const REPLACEMENT_CHARACTER = "\uFFFD";

/** VirusTotal's real reports nest about 10 levels. */
export const MAX_JSON_DEPTH = 64;

export const TOO_DEEP = `[nested deeper than ${MAX_JSON_DEPTH} levels: dropped]`;

/** NUL and lone surrogates replaced by U+FFFD; well-formed pairs (emoji) kept. */
export function sanitizeText(text: string): string {
  if (text.isWellFormed() && !text.includes("\0")) return text;
  return text.toWellFormed().replaceAll("\0", REPLACEMENT_CHARACTER);
}

/**
 * A deep copy of JSON.parse output with every string and key sanitized and nesting bounded.
 * When sanitized keys collide, a key that needed no change keeps its value; otherwise the first in the
 * object's key order wins and the others are dropped (JSON.parse's key order is deterministic).
 */
export function sanitizeJson(value: unknown): unknown {
  return copy(value, 0);
}

function copy(value: unknown, depth: number): unknown {
  if (typeof value === "string") return sanitizeText(value);
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_JSON_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) return value.map((item) => copy(item, depth + 1));

  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const clean = sanitizeText(key);
    if (clean !== key && Object.hasOwn(result, clean)) continue;
    // Not `result[clean] = …`: for "__proto__", which JSON.parse makes an ordinary key, that sets the prototype.
    const property = { value: copy(item, depth + 1), enumerable: true, writable: true, configurable: true };
    Object.defineProperty(result, clean, property);
  }
  return result;
}
