import * as z from "zod";
import { ENV } from "#shared/resources";

const schema = z.object({
  [ENV.archiveBucket]: z.string().min(3).max(63).optional(),
  [ENV.archiveDir]: z.string().min(1).optional(),
});

/** Where the archive goes: an S3 bucket (AWS, LocalStack) or a local directory with the same keys. */
export type ArchiveTarget =
  | { readonly kind: "s3"; readonly bucket: string }
  | { readonly kind: "files"; readonly dir: string };

/** Reads and validates the archive function's configuration; throws naming what is wrong. */
export function loadArchiveConfig(env: Readonly<Record<string, string | undefined>>): ArchiveTarget {
  const parsed = schema.safeParse(env);
  const invalid = (problems: string) => new Error(`archive function configuration is invalid: ${problems}`);
  if (!parsed.success)
    throw invalid(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  const bucket = parsed.data[ENV.archiveBucket];
  const dir = parsed.data[ENV.archiveDir];
  if ((bucket === undefined) === (dir === undefined))
    throw invalid(`set exactly one of ${ENV.archiveBucket} and ${ENV.archiveDir}`);
  return bucket !== undefined ? { kind: "s3", bucket } : { kind: "files", dir: dir as string };
}
