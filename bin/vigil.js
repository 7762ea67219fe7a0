#!/usr/bin/env node
// The `vigil` operator CLI. The sources are TypeScript; tsx compiles them on the fly so the CLI
// needs no build step and always matches the code in the repository.
import { register } from "tsx/esm/api";

// The AWS SDK warns once per process that its 2027 releases need Node.js 22. Vigil's Lambda
// functions run on Node.js 22; on an older local Node the notice is only noise (the SDK's own switch).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

register();
await import("../cli/main.ts");
