// The API reference: the OpenAPI document (/api/openapi.json) rendered on the server, with no script or style from
// anywhere but this app (the CSP allows 'self' only).
import type { Metadata } from "next";
import { headers } from "next/headers";
import { openApiDocument, type Operation } from "@/lib/api/openapi";
import { publicBaseUrlOf } from "@/lib/api/public-url";
import { ERROR_CODES } from "@/lib/errors";
import { MethodBadge, operationAnchor, OperationView } from "./operation-view";
import { CODE, Prose } from "./prose";
import { schemaAnchor, SchemaView, TableHead } from "./schema-view";

export const metadata: Metadata = { title: "API reference · Hashscan" };

const CARD = "rounded-lg border border-slate-200 bg-white p-4 sm:p-6 dark:border-slate-800 dark:bg-slate-900";
const NAV_LINK = "flex items-start gap-2 rounded px-2 py-1 text-sm hover:bg-slate-100 dark:hover:bg-slate-800";

export default async function ApiDocsPage() {
  const document = openApiDocument(publicBaseUrlOf(await headers()));
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
  );
  const groups: Groups = document.tags.map((tag) => ({ tag, operations: operations.filter(({ operation }) => operation.tags.includes(tag.name)) }));

  return (
    <div className="space-y-6">
      <header>
        <h1 className="text-2xl font-semibold">{document.info.title}</h1>
        <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">
          Version {document.info.version} · OpenAPI {document.openapi} ·{" "}
          <a href="/api/openapi.json" className="text-blue-700 underline underline-offset-2 dark:text-blue-400">
            /api/openapi.json
          </a>{" "}
          · server <code className={CODE}>{document.servers[0].url}</code>
        </p>
        <Prose text={document.info.description} className="mt-3 max-w-3xl text-slate-700 dark:text-slate-300" />
      </header>

      {/* A phone gets the contents folded under the title; a wide screen keeps them beside the text. */}
      <details className="rounded-lg border border-slate-200 bg-white p-3 lg:hidden dark:border-slate-800 dark:bg-slate-900">
        <summary className="cursor-pointer text-sm font-semibold">Contents</summary>
        <Contents groups={groups} />
      </details>

      <div className="lg:grid lg:grid-cols-[15rem_minmax(0,1fr)] lg:gap-8">
        <nav aria-label="API reference" className="hidden lg:sticky lg:top-4 lg:block lg:max-h-[calc(100vh-2rem)] lg:self-start lg:overflow-y-auto">
          <Contents groups={groups} />
        </nav>

        <div className="min-w-0 space-y-8">
          <Errors />

          {groups.map(({ tag, operations: tagged }) => (
            <div key={tag.name} className="space-y-4">
              <div>
                <h2 className="text-lg font-semibold">{tag.name}</h2>
                <p className="text-sm text-slate-600 dark:text-slate-400">{tag.description}</p>
              </div>
              {tagged.map(({ path, method, operation }) => (
                <OperationView key={operation.operationId} path={path} method={method} operation={operation} document={document} />
              ))}
            </div>
          ))}

          <section id="schemas" aria-labelledby="schemas-heading" className="scroll-mt-4 space-y-4">
            <h2 id="schemas-heading" className="text-lg font-semibold">
              Schemas
            </h2>
            {Object.entries(document.components.schemas).map(([name, schema]) => (
              <div key={name} id={schemaAnchor(name)} className={`scroll-mt-4 ${CARD}`}>
                <h3 className="font-mono font-semibold">{name}</h3>
                <div className="mt-2">
                  <SchemaView schema={schema} components={document.components.schemas} />
                </div>
              </div>
            ))}
          </section>
        </div>
      </div>
    </div>
  );
}

type Groups = { tag: { name: string; description: string }; operations: { path: string; method: string; operation: Operation }[] }[];

function Contents({ groups }: { groups: Groups }) {
  return (
    <div className="mt-2 space-y-4 lg:mt-0">
      <ul>
        <li>
          <a href="#errors" className={NAV_LINK}>
            Errors
          </a>
        </li>
        <li>
          <a href="#schemas" className={NAV_LINK}>
            Schemas
          </a>
        </li>
      </ul>
      {groups.map(({ tag, operations }) => (
        <div key={tag.name}>
          <p className="px-2 text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">{tag.name}</p>
          <ul className="mt-1">
            {operations.map(({ path, method, operation }) => (
              <li key={operation.operationId}>
                <a href={`#${operationAnchor(operation)}`} className={NAV_LINK} title={`${method.toUpperCase()} ${path}`}>
                  <MethodBadge method={method} />
                  <span className="min-w-0">{operation.summary}</span>
                </a>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );
}

function Errors() {
  return (
    <section id="errors" aria-labelledby="errors-heading" className={`scroll-mt-4 ${CARD}`}>
      <h2 id="errors-heading" className="text-lg font-semibold">
        Errors
      </h2>
      <p className="mt-2 text-sm text-slate-700 dark:text-slate-300">
        Every error is answered as <code className={CODE}>{'{"error": {"code": "…", "message": "…"}}'}</code>. Switch on the code:
        it is stable; the message is for people. A <code className={CODE}>429</code> carries <code className={CODE}>Retry-After</code>{" "}
        (seconds), a <code className={CODE}>401</code> carries <code className={CODE}>WWW-Authenticate</code>.
      </p>
      <table className="mt-4 w-full text-left text-sm">
        <TableHead columns={["Code", "Status", "Meaning"]} className="hidden sm:table-header-group" />
        <tbody>
          {Object.entries(ERROR_CODES).map(([code, { status, meaning }]) => (
            <tr key={code} className="block border-b border-slate-100 py-2 last:border-0 sm:table-row sm:py-0 dark:border-slate-800">
              <td className="mr-3 inline-block align-top font-mono font-medium sm:table-cell sm:px-3 sm:py-2 sm:whitespace-nowrap">{code}</td>
              <td className="inline-block align-top font-mono text-slate-600 sm:table-cell sm:px-3 sm:py-2 dark:text-slate-400">{status}</td>
              <td className="block align-top text-slate-700 sm:table-cell sm:px-3 sm:py-2 dark:text-slate-300">{meaning}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
