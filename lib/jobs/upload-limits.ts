/**
 * The largest upload we accept, whatever the route (decompressed). A million SHA-256 lines, JOB_MAX_HASHES's
 * default, are about 65 MB. next.config.mjs raises the server-action body limit to match (a test checks they agree).
 */
export const MAX_UPLOAD_BYTES = 70 * 1024 * 1024;
export const MAX_UPLOAD_LABEL = "70 MB";
export const MAX_JOB_NAME_LENGTH = 200;
/** Rows per page on the report page, and the API's default `limit`. */
export const REPORT_PAGE_SIZE = 100;
