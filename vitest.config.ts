import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Silences the AWS SDK's notice that its 2027 releases need Node.js 22 (this machine has 20).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          // Property tests share two cores with the integration suite's engines: allow for that.
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: "infra",
          include: ["test/infra/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // The integration tests share this machine's two cores with two emulators each.
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          // Long-running: `npm run test:crash` (and CI), not part of `npm test`: the crash test at
          // production shape and the fault-injection test (docs/crash-test.md). Their runs are in
          // beforeAll hooks with their own timeouts (hours at the full size).
          name: "crash",
          include: ["test/crash/**/*.test.ts"],
          environment: "node",
          testTimeout: 1_500_000,
          hookTimeout: 180_000,
          // Each starts its own engines and runtime: one at a time on this machine's two cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
