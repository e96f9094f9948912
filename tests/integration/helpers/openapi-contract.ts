// Checks real responses against the OpenAPI document: each one's status, media type, body and headers must be what the
// document says of that operation, its bodies validated by a draft 2020-12 validator (ajv) against the document's own
// schemas. It keeps count of what was checked, so a test can tell which documented answers were never seen.
import { Ajv2020 } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { expect } from "vitest";
import type { OpenApiDocument, Operation } from "../../../lib/api/openapi";

const pointer = (...parts: string[]) => parts.map((part) => `/${part.replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");

export class OpenApiContract {
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true });
  /** operationId → "status media" answers seen; operationId → error codes seen. */
  readonly seen = new Map<string, Set<string>>();
  readonly codesSeen = new Set<string>();

  constructor(readonly document: OpenApiDocument) {
    addFormats(this.ajv);
    // The document itself, so that "#/components/schemas/…" in any of its schemas resolves where it stands. Its own
    // top-level fields are no JSON Schema keywords: ajv passes over them (and compiles only what a pointer names).
    for (const field of Object.keys(document)) this.ajv.addKeyword({ keyword: field });
    this.ajv.addSchema(document as object, "openapi");
  }

  operations(): { path: string; method: string; operation: Operation }[] {
    return Object.entries(this.document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
    );
  }

  find(operationId: string) {
    const found = this.operations().find(({ operation }) => operation.operationId === operationId);
    if (!found) throw new Error(`No operation ${operationId} in the document`);
    return found;
  }

  /** The compiled schema at `at` (a JSON pointer into the document); compiling throws on a schema ajv refuses. */
  validator(at: string) {
    return this.ajv.getSchema(`openapi#${at}`) ?? this.ajv.compile({ $ref: `openapi#${at}` });
  }

  /** Validates `value` against the schema at `at` (a JSON pointer into the document); ajv's errors on failure. */
  validate(at: string, value: unknown): void {
    const validator = this.validator(at);
    const valid = validator(value);
    expect(valid, `${at}: ${this.ajv.errorsText(validator.errors)}\n${JSON.stringify(value).slice(0, 500)}`).toBe(true);
  }

  /**
   * Checks one real response of `operationId`: the status is documented, and so is the media type; the body (each
   * line of NDJSON) and every documented header present match their schemas. Answers the parsed body.
   */
  async check(operationId: string, response: Response): Promise<unknown> {
    const { path, method, operation } = this.find(operationId);
    const status = String(response.status);
    const documented = operation.responses[status];
    expect(documented, `${method.toUpperCase()} ${path} answered ${status}, which the document does not list`).toBeDefined();
    const base = pointer("paths", path, method, "responses", status);

    for (const name of Object.keys(documented.headers ?? {})) {
      const value = response.headers.get(name);
      if (value !== null) this.validate(`${pointer("components", "headers", name)}/schema`, value);
    }

    const mediaType = (response.headers.get("content-type") ?? "").split(";")[0].trim();
    let body: unknown;
    if (!documented.content) {
      expect(await response.text(), `${status} has no body in the document`).toBe("");
      this.record(operationId, `${status} -`);
      return undefined;
    }
    expect(Object.keys(documented.content), `${method.toUpperCase()} ${path} ${status} answered ${mediaType}`).toContain(mediaType);
    const schemaAt = `${base}${pointer("content", mediaType, "schema")}`;
    if (mediaType === "application/json") {
      body = await response.json();
      this.validate(schemaAt, body);
    } else {
      const text = await response.text();
      this.validate(schemaAt, text);
      body = text;
      if (mediaType === "application/x-ndjson") {
        body = text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
        for (const record of body as unknown[]) this.validate(pointer("components", "schemas", "ExportRecord"), record);
      }
    }
    const code = (body as { error?: { code?: string } } | undefined)?.error?.code;
    if (response.status >= 400 && code) this.codesSeen.add(code);
    this.record(operationId, `${status} ${mediaType}`);
    return body;
  }

  private record(operationId: string, answer: string) {
    const answers = this.seen.get(operationId) ?? new Set<string>();
    answers.add(answer);
    this.seen.set(operationId, answers);
  }
}

/** Every `$ref` in the document, with where it stands. */
export function refsIn(value: unknown, at = ""): { at: string; ref: string }[] {
  if (Array.isArray(value)) return value.flatMap((entry, i) => refsIn(entry, `${at}/${i}`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, entry]) =>
    key === "$ref" && typeof entry === "string" ? [{ at, ref: entry }] : refsIn(entry, `${at}${pointer(key)}`),
  );
}

/** The value a local reference ("#/a/b") points to, or undefined. */
export function resolveRef(document: unknown, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  return ref
    .slice(2)
    .split("/")
    .map((part) => decodeURIComponent(part).replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce<unknown>((node, part) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined), document);
}
