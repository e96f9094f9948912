// One operation of the OpenAPI document: method and path, what it does, who may call it, its parameters, body,
// responses (each status, its headers and body) and curl samples.
import type { OpenApiDocument, Operation } from "@/lib/api/openapi";
import type { JsonSchema } from "@/lib/api/openapi-schemas";
import { CopyCommand } from "./copy-command";
import { CODE, inline, Prose } from "./prose";
import { constraintsOf, FieldTable, SchemaView, TypeLabel } from "./schema-view";

export const operationAnchor = (operation: Operation) => operation.operationId;

const METHOD_STYLE: Record<string, string> = {
  get: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
  post: "bg-blue-100 text-blue-800 dark:bg-blue-950 dark:text-blue-300",
};

export function MethodBadge({ method }: { method: string }) {
  return (
    <span className={`inline-block w-12 shrink-0 rounded px-1.5 py-0.5 text-center font-mono text-xs font-semibold uppercase ${METHOD_STYLE[method] ?? ""}`}>
      {method}
    </span>
  );
}

const H3 = "text-sm font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400";

function statusStyle(status: string): string {
  if (status.startsWith("2")) return "text-emerald-700 dark:text-emerald-400";
  if (status.startsWith("3")) return "text-slate-600 dark:text-slate-300";
  if (status.startsWith("4")) return "text-amber-700 dark:text-amber-400";
  return "text-red-700 dark:text-red-400";
}

export function OperationView({ path, method, operation, document }: { path: string; method: string; operation: Operation; document: OpenApiDocument }) {
  const { schemas, headers, securitySchemes } = document.components;
  return (
    <section id={operationAnchor(operation)} className="scroll-mt-4 rounded-lg border border-slate-200 bg-white p-4 sm:p-6 dark:border-slate-800 dark:bg-slate-900">
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <MethodBadge method={method} />
        <code className="font-mono text-sm font-semibold break-all">{path}</code>
      </div>
      <h2 className="mt-3 text-xl font-semibold">{operation.summary}</h2>
      <Prose text={operation.description} className="mt-2 text-slate-700 dark:text-slate-300" />
      <Access security={operation.security} schemes={securitySchemes} />

      {operation.parameters.length > 0 && (
        <div className="mt-6">
          <h3 className={H3}>Parameters</h3>
          <div className="mt-2">
            <FieldTable
              head="Name"
              rows={operation.parameters.map((parameter) => ({
                name: (
                  <>
                    {parameter.name}
                    <span className="block text-xs font-normal text-slate-500 dark:text-slate-400">{parameter.in}</span>
                  </>
                ),
                type: <TypeLabel schema={parameter.schema} />,
                required: parameter.required,
                notes: constraintsOf(parameter.schema),
                description: parameter.description,
              }))}
            />
          </div>
        </div>
      )}

      {operation.requestBody && (
        <div className="mt-6">
          <h3 className={H3}>Request body</h3>
          <p className="mt-2 text-sm text-slate-700 dark:text-slate-300">{operation.requestBody.description}</p>
          <MediaTypes content={operation.requestBody.content} schemas={schemas} />
        </div>
      )}

      <div className="mt-6">
        <h3 className={H3}>Responses</h3>
        <div className="mt-2 divide-y divide-slate-200 dark:divide-slate-800">
          {Object.entries(operation.responses).map(([status, response]) => (
            <div key={status} className="py-3">
              <div className="flex gap-3">
                <span className={`w-10 shrink-0 font-mono font-semibold ${statusStyle(status)}`}>{status}</span>
                <Prose text={response.description} className="min-w-0 text-sm text-slate-700 dark:text-slate-300" />
              </div>
              <div className="mt-2 space-y-2 sm:pl-13">
                {response.headers && (
                  <ul className="space-y-1 text-sm">
                    {Object.keys(response.headers).map((name) => (
                      <li key={name}>
                        Header <code className={CODE}>{name}</code>: {inline(headers[name]?.description ?? "")}
                      </li>
                    ))}
                  </ul>
                )}
                {response.content && (isErrorBody(response.content) ? (
                  <ErrorBody />
                ) : (
                  <MediaTypes content={response.content} schemas={schemas} />
                ))}
              </div>
            </div>
          ))}
        </div>
      </div>

      <div className="mt-6">
        <h3 className={H3}>Examples</h3>
        <div className="mt-2 space-y-3">
          {operation["x-codeSamples"].map((sample) => (
            <figure key={sample.label}>
              <figcaption className="text-sm text-slate-600 dark:text-slate-400">{sample.label}</figcaption>
              <div className="mt-1 overflow-hidden rounded-md bg-slate-900 dark:bg-slate-950 dark:ring-1 dark:ring-slate-800">
                <div className="flex justify-end px-2 pt-2">
                  <CopyCommand text={sample.source} />
                </div>
                <pre className="overflow-x-auto px-3 pb-3 font-mono text-xs leading-relaxed text-slate-100 sm:text-sm">
                  <code>{sample.source}</code>
                </pre>
              </div>
            </figure>
          ))}
        </div>
      </div>
    </section>
  );
}

function Access({ security, schemes }: { security: Operation["security"]; schemes: OpenApiDocument["components"]["securitySchemes"] }) {
  if (security.length === 0) return <p className="mt-3 text-sm text-slate-600 dark:text-slate-400">No token needed.</p>;
  // Required: in every alternative; optional: in some only (the bearer token, where API_TOKENS is unset).
  const names = [...new Set(security.flatMap(Object.keys))];
  return (
    <ul className="mt-3 space-y-1 text-sm text-slate-600 dark:text-slate-400">
      {names.map((name) => {
        const always = security.every((alternative) => name in alternative);
        const scheme = schemes[name];
        const what = scheme.type === "http" ? "Authorization: Bearer <token>" : `${scheme.name}: <token>`;
        return (
          <li key={name}>
            <span className="font-medium text-slate-800 dark:text-slate-200">{always ? "Needs" : "Where API_TOKENS is set, needs"}</span>{" "}
            <code className={CODE}>{what}</code>
          </li>
        );
      })}
    </ul>
  );
}

/** An error answer: the envelope, narrowed to the codes its status carries. */
function isErrorBody(content: Record<string, { schema: JsonSchema }>): boolean {
  const schema = content["application/json"]?.schema as { properties?: { error?: { properties?: { code?: unknown } } } } | undefined;
  return schema?.properties?.error?.properties?.code !== undefined;
}

/** Error answers share one shape, told once under Errors; the status's description says which codes it carries. */
function ErrorBody() {
  return (
    <p className="text-sm text-slate-600 dark:text-slate-400">
      <span className="font-mono text-xs">application/json</span>: the{" "}
      <a href="#errors" className="text-blue-700 underline underline-offset-2 dark:text-blue-400">
        error envelope
      </a>
      .
    </p>
  );
}

function MediaTypes({ content, schemas }: { content: Record<string, { schema: JsonSchema }>; schemas: Record<string, JsonSchema> }) {
  return (
    <div className="mt-2 space-y-3">
      {Object.entries(content).map(([type, { schema }]) => (
        <div key={type} className="rounded-md border border-slate-200 p-3 dark:border-slate-800">
          <p className="mb-2 font-mono text-xs text-slate-500 dark:text-slate-400">{type}</p>
          <SchemaView schema={schema} components={schemas} />
        </div>
      ))}
    </div>
  );
}
