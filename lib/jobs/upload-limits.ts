/**
 * The largest upload we accept, whatever the route. 100,000 SHA-256 lines are about 6.5 MB; this leaves room for
 * IOC files with comments. next.config.mjs raises the server-action body limit to match (a test checks they agree).
 */
export const MAX_UPLOAD_BYTES = 16 * 1024 * 1024;
export const MAX_UPLOAD_LABEL = "16 MB";
export const MAX_JOB_NAME_LENGTH = 200;
/** Rows per page on the report page, and the API's default `limit`. */
export const REPORT_PAGE_SIZE = 100;
