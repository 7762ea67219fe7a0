/**
 * What of an error may go into a log line: its name, and its code or HTTP status when it has one
 * (`ECONNRESET`, 400). Never its message: AWS SDK and driver messages can quote request content
 * (keys, item values, identifiers), which must not reach CloudWatch Logs.
 */
export type ErrorFields = {
  readonly error: string;
  readonly code?: string;
  readonly status?: number;
};

/** The loggable fields of anything thrown (see {@link ErrorFields}). */
export function errorFields(error: unknown): ErrorFields {
  if (!(error instanceof Error)) return { error: typeof error };
  const { code, $metadata } = error as { code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return {
    error: error.name,
    ...(typeof code === "string" || typeof code === "number" ? { code: String(code) } : {}),
    ...(typeof $metadata?.httpStatusCode === "number" ? { status: $metadata.httpStatusCode } : {}),
  };
}

/**
 * The name part of an error already described as `Name: message` text (the state store's commit
 * result), so that only the name is logged.
 */
export function errorNameOf(description: string): string {
  const name = description.split(":", 1)[0]?.trim() ?? "";
  return /^[A-Za-z_$][\w$.]*$/.test(name) ? name : "Error";
}
