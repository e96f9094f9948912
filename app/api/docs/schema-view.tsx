// A JSON Schema of the OpenAPI document as a reader wants it: a type in a few words, and an object as a table of its
// fields (nested objects flattened to dotted names), each with its type, whether it is always there, and what it is.
import { Fragment, type ReactNode } from "react";
import type { JsonSchema } from "@/lib/api/openapi-schemas";
import { CODE, Prose } from "./prose";

export const schemaAnchor = (name: string) => `schema-${name}`;
const refName = (ref: string) => ref.slice(ref.lastIndexOf("/") + 1);
const LINK = "font-mono text-blue-700 underline-offset-2 hover:underline dark:text-blue-400";

/** The schema's type in a few words: `JobResult[]`, `string | null`, `"asc" | "desc"`, `string (date-time)`. */
export function TypeLabel({ schema }: { schema: JsonSchema }): ReactNode {
  if (typeof schema.$ref === "string") {
    const name = refName(schema.$ref);
    return (
      <a href={`#${schemaAnchor(name)}`} className={LINK}>
        {name}
      </a>
    );
  }
  const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (union) return joined(union.map((member, i) => <TypeLabel key={i} schema={member} />));
  if (schema.const !== undefined) return <code className={CODE}>{JSON.stringify(schema.const)}</code>;
  if (Array.isArray(schema.enum)) {
    const values = schema.enum.map((value, i) => (
      <code key={i} className={CODE}>
        {JSON.stringify(value)}
      </code>
    ));
    return joined(schema.type === "null" || (Array.isArray(schema.type) && schema.type.includes("null")) ? [...values, "null"] : values);
  }
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === "string" ? [schema.type] : [];
  if (types.length === 0) return "any";
  return joined(
    types.map((type) => {
      if (type === "array") return <Fragment key={type}>{schema.items ? <TypeLabel schema={schema.items as JsonSchema} /> : "any"}[]</Fragment>;
      if (type === "string" && schema.format === "binary") return "file";
      if (type === "string" && typeof schema.format === "string") return `string (${schema.format})`;
      return type;
    }),
  );
}

function joined(parts: ReactNode[]): ReactNode {
  return parts.map((part, i) => (
    <Fragment key={i}>
      {i > 0 && <span className="text-slate-400"> | </span>}
      {part}
    </Fragment>
  ));
}

/** Bounds, length, pattern and default, in words: "1 to 1000 · default 100". A date-time's pattern says no more than its format. */
export function constraintsOf(schema: JsonSchema): string[] {
  const notes: string[] = [];
  const { minimum, maximum, minLength, maxLength } = schema;
  if (minimum !== undefined && maximum !== undefined) notes.push(`${minimum} to ${maximum}`);
  else if (minimum !== undefined) notes.push(`at least ${minimum}`);
  else if (maximum !== undefined) notes.push(`at most ${maximum}`);
  if (minLength !== undefined && maxLength !== undefined) notes.push(`${minLength} to ${maxLength} characters`);
  else if (maxLength !== undefined) notes.push(`at most ${maxLength} characters`);
  if (typeof schema.pattern === "string" && schema.format === undefined) notes.push(`matches ${schema.pattern}`);
  if (schema.default !== undefined) notes.push(`default ${JSON.stringify(schema.default)}`);
  return notes;
}

interface Row {
  path: string[];
  schema: JsonSchema;
  required: boolean;
}

/** An object written in place (not a $ref), directly, as array items, or beside null. */
function objectIn(schema: JsonSchema): { object: JsonSchema; array: boolean } | null {
  if (schema.properties) return { object: schema, array: false };
  const items = schema.items as JsonSchema | undefined;
  if (schema.type === "array" && items?.properties) return { object: items, array: true };
  const members = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  const inner = members?.filter((member) => member.type !== "null");
  return inner?.length === 1 ? objectIn(inner[0]) : null;
}

function rowsOf(object: JsonSchema, path: string[] = []): Row[] {
  const required = new Set((object.required as string[] | undefined) ?? []);
  return Object.entries((object.properties ?? {}) as Record<string, JsonSchema>).flatMap(([name, schema]) => {
    const row = { path: [...path, name], schema, required: required.has(name) };
    const nested = objectIn(schema);
    return nested ? [row, ...rowsOf(nested.object, [...path, nested.array ? `${name}[]` : name])] : [row];
  });
}

const CELL = "block px-0 py-0.5 align-top sm:table-cell sm:px-3 sm:py-2";
/** On a phone, name, type and required share a line when they fit; the description goes under them. */
const SHORT_CELL = "mr-3 inline-block px-0 py-0.5 align-top sm:mr-0 sm:table-cell sm:px-3 sm:py-2";

/** A table's column headings, in the reference's one style. */
export function TableHead({ columns, className = "" }: { columns: string[]; className?: string }) {
  return (
    <thead className={`border-b border-slate-200 text-xs tracking-wide text-slate-500 uppercase dark:border-slate-700 dark:text-slate-400 ${className}`}>
      <tr>
        {columns.map((column) => (
          <th key={column} scope="col" className="px-3 py-2 font-medium">
            {column}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** A table of fields: a table from a tablet up, one block per field on a phone. */
export function FieldTable({ rows, head }: { rows: { name: ReactNode; type: ReactNode; required: boolean; notes: string[]; description?: string }[]; head: string }) {
  return (
    <table className="w-full text-left text-sm">
      <TableHead columns={[head, "Type", "Required", "Description"]} className="hidden sm:table-header-group" />
      <tbody>
        {rows.map((row, i) => (
          <tr key={i} className="block border-b border-slate-100 py-2 last:border-0 sm:table-row sm:py-0 dark:border-slate-800">
            <td className={`${SHORT_CELL} font-mono font-medium break-all sm:break-normal sm:whitespace-nowrap`}>{row.name}</td>
            <td className={`${SHORT_CELL} sm:w-1/5`}>
              <span className="break-words">{row.type}</span>
              {row.notes.length > 0 && <span className="block text-xs text-slate-500 dark:text-slate-400">{row.notes.join(" · ")}</span>}
            </td>
            <td className={`${SHORT_CELL} sm:w-24`}>
              {row.required ? (
                <span className="font-medium text-slate-700 dark:text-slate-200">required</span>
              ) : (
                <span className="text-slate-500 dark:text-slate-400">optional</span>
              )}
            </td>
            <td className={`${CELL} text-slate-700 dark:text-slate-300`}>{row.description && <Prose text={row.description} />}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A schema: its type, its description, and (for an object written in place) the table of its fields. */
export function SchemaView({ schema, components }: { schema: JsonSchema; components: Record<string, JsonSchema> }) {
  // A named object is shown whole where it is used, as well as under Schemas: a response reads in one place.
  const named = typeof schema.$ref === "string" ? components[refName(schema.$ref)] : undefined;
  const object = objectIn(named ?? schema);
  return (
    <div className="space-y-2">
      <p className="text-sm">
        <TypeLabel schema={schema} />
        {constraintsOf(schema).length > 0 && <span className="text-slate-500 dark:text-slate-400"> · {constraintsOf(schema).join(" · ")}</span>}
      </p>
      {typeof schema.description === "string" && <Prose text={schema.description} className="text-sm text-slate-700 dark:text-slate-300" />}
      {object && (
        <FieldTable
          head="Field"
          rows={rowsOf(object.object).map((row) => ({
            name: (
              <>
                {row.path.length > 1 && <span className="text-slate-400 dark:text-slate-500">{row.path.slice(0, -1).join(".")}.</span>}
                {row.path[row.path.length - 1]}
              </>
            ),
            type: <TypeLabel schema={row.schema} />,
            required: row.required,
            notes: constraintsOf(row.schema),
            description: row.schema.description as string | undefined,
          }))}
        />
      )}
    </div>
  );
}
