// The shape of VirusTotal's `GET /files/{hash}` answer: loose about keys we ignore, strict about the ones we use.
import { z } from "zod";

const hex = (length: number, what: string) =>
  z
    .string()
    .toLowerCase()
    .regex(new RegExp(`^[0-9a-f]{${length}}$`), `${what} must be ${length} hexadecimal digits`);

const count = z.number().int().nonnegative();

/** Free text we only show: anything but a string counts as absent rather than making the report malformed. */
const looseText = z.string().nullable().catch(null).optional();

/** Older reports may lack some keys; a missing key means 0. */
const analysisStatsSchema = z.looseObject({
  harmless: count.optional(),
  "type-unsupported": count.optional(),
  suspicious: count.optional(),
  "confirmed-timeout": count.optional(),
  timeout: count.optional(),
  failure: count.optional(),
  malicious: count.optional(),
  undetected: count.optional(),
});

/** `result` is null whenever the engine did not detect anything (undetected, unsupported, timeout, failure). */
const engineResultSchema = z.looseObject({
  category: z.string(),
  result: z.string().nullable(),
  engine_name: z.string().optional(),
});

export const fileReportSchema = z.looseObject({
  data: z.looseObject({
    /** Always the SHA-256, whatever hash was asked for. */
    id: z.string(),
    attributes: z.looseObject({
      md5: hex(32, "md5"),
      sha1: hex(40, "sha1"),
      sha256: hex(64, "sha256"),
      /** Unix seconds, UTC. */
      // A date we cannot use is no date: the rest of a paid answer is still worth keeping.
      last_analysis_date: z.number().int().nonnegative().optional().catch(undefined),
      last_analysis_stats: analysisStatsSchema.optional(),
      /** Keyed by engine; the key can differ from `engine_name`. */
      last_analysis_results: z.record(z.string(), engineResultSchema).optional(),
      meaningful_name: looseText,
      type_description: looseText,
    }),
  }),
});

export type FileReport = z.infer<typeof fileReportSchema>;
