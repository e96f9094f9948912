import { describe, expect, it } from "vitest";
import nextConfig from "../../next.config.mjs";
import { MAX_UPLOAD_BYTES, MAX_UPLOAD_LABEL } from "./upload-limits";

describe("upload limits", () => {
  it("lets Next's server-action body limit sit just above ours, so our clear error is the one users see", () => {
    const limit = nextConfig.experimental?.serverActions?.bodySizeLimit;
    const bytes = Number(/^(\d+)mb$/.exec(String(limit))?.[1]) * 1024 * 1024;
    expect(bytes).toBeGreaterThan(MAX_UPLOAD_BYTES);
    expect(bytes).toBeLessThanOrEqual(MAX_UPLOAD_BYTES + 2 * 1024 * 1024);
    expect(MAX_UPLOAD_LABEL).toBe(`${MAX_UPLOAD_BYTES / 1024 / 1024} MB`);
  });
});
