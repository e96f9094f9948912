export { fileReportSchema, type FileReport } from "./report-schema";
export { summarizeReport, type ReportSummary } from "./summary";
export {
  VirusTotalError,
  NotFoundError,
  QuotaExceededError,
  BadKeyError,
  TransientError,
  MalformedResponseError,
  RequestRejectedError,
  classifyHttpError,
  parseRetryAfter,
  type AnyVirusTotalError,
  type VirusTotalErrorDetails,
  type VirusTotalErrorKind,
} from "./errors";
export {
  createVirusTotalClient,
  splitCredentials,
  type FileLookup,
  type QuotaUse,
  type Quotas,
  type VirusTotalClient,
  type VirusTotalClientOptions,
} from "./client";

