// zod → JSON Schema (draft 2020-12, OpenAPI 3.1's dialect) for the OpenAPI document: the named components every
// operation refers to, and the one-off schemas written inline where an operation uses them. Nothing is written by
// hand: each schema is zod's own conversion, requests as they are sent (`io: "input"`), responses as they come out.
import { z } from "zod";

export type JsonSchema = { [keyword: string]: unknown };
type Io = "input" | "output";

const COMPONENTS = "#/components/schemas/";
/** The id of a schema used once, in place: never a component of its own (a component's name has no underscore). */
const INLINE = "_inline_";

/** JSON Schema of a zod schema, standalone (query, path and header parameters: no component inside them). */
export function jsonSchemaOf(schema: z.ZodType, io: Io): JsonSchema {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { target: "draft-2020-12", io, override: dropSafeIntegerBounds });
  return json;
}

/**
 * Collects the schemas an OpenAPI document uses, and converts them at once: `use` answers a `$ref` (to a named
 * component, or to a placeholder that `finish` replaces with the schema itself), so that components refer to each
 * other by name and the response of one operation is written where it is read.
 */
export class SchemaCollector {
  private readonly registries = { input: z.registry<{ id: string }>(), output: z.registry<{ id: string }>() };
  private inlined = 0;

  constructor(named: Record<Io, Record<string, z.ZodType>>) {
    for (const io of ["input", "output"] as const) {
      for (const [id, schema] of Object.entries(named[io])) this.registries[io].add(schema, { id });
    }
  }

  use(schema: z.ZodType, io: Io): JsonSchema {
    const registry = this.registries[io];
    const known = registry.get(schema)?.id;
    if (known) return { $ref: COMPONENTS + known };
    const id = `${INLINE}${this.inlined++}`;
    registry.add(schema, { id });
    return { $ref: COMPONENTS + id };
  }

  /** The named components, and `document` with every placeholder replaced by its schema. */
  finish<T>(document: T): { components: Record<string, JsonSchema>; document: T } {
    const all: Record<string, JsonSchema> = {};
    for (const io of ["input", "output"] as const) {
      const { schemas } = z.toJSONSchema(this.registries[io], {
        target: "draft-2020-12",
        io,
        uri: (id) => COMPONENTS + id,
        override: dropSafeIntegerBounds,
      });
      for (const [id, schema] of Object.entries(schemas)) {
        if (id in all) throw new Error(`OpenAPI: the schema ${id} is named both as a request and as a response`);
        // A component is no document of its own: the dialect is the document's, its place is its address.
        const { $schema: _, $id: __, ...json } = schema as JsonSchema;
        all[id] = json;
      }
    }
    const inline = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(inline);
      if (value === null || typeof value !== "object") return value;
      const ref = (value as JsonSchema).$ref;
      if (typeof ref === "string" && ref.startsWith(COMPONENTS + INLINE)) return inline(all[ref.slice(COMPONENTS.length)]);
      return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, inline(entry)]));
    };
    const components = Object.fromEntries(
      Object.entries(all)
        .filter(([id]) => !id.startsWith(INLINE))
        .map(([id, schema]) => [id, inline(schema) as JsonSchema]),
    );
    return { components, document: inline(document) as T };
  }
}

/**
 * zod's integers are safe integers, and say so with bounds of ±(2^53 − 1) on each: true, and noise on every count in
 * the reference. Bounds a schema sets itself (limit: 1 to 1000) stay.
 */
function dropSafeIntegerBounds({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
}
