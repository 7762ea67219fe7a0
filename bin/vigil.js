#!/usr/bin/env node
// The `vigil` operator CLI. The sources are TypeScript; tsx compiles them on the fly so the CLI
// needs no build step and always matches the code in the repository.
import { register } from "tsx/esm/api";

// The AWS SDK warns once per process that future releases need Node.js 22; Vigil's Lambda
// functions run on Node.js 22 already, so on an older local Node the notice is only noise.
const [printWarning] = process.listeners("warning");
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (!String(warning.message).startsWith("NodeVersionSupportWarning")) printWarning?.(warning);
});

register();
await import("../cli/main.ts");
