/** An error the CLI reports as one line on stderr with an exit code, without a stack trace. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Progress and status lines go to stderr so stdout stays clean for data. */
export function say(message: string): void {
  process.stderr.write(`${message}\n`);
}
