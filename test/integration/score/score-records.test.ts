import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import type { ScoreWorld } from "../../support/score-path.ts";
import { dynamoDbWorlds } from "../../support/score-path-dynamodb.ts";
import { scorePathSuite } from "../../support/score-path-suite.ts";

describe("scoreRecords on DynamoDB Local", () => {
  let stack: LocalStack;
  let worlds: (nowMs: number) => Promise<ScoreWorld>;
  beforeAll(async () => {
    stack = await startLocalStack({ stateDir: mkdtempSync(join(tmpdir(), "vigil-score-path-")) });
    worlds = dynamoDbWorlds(stack);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  scorePathSuite({ world: (nowMs) => worlds(nowMs), size: 12, nths: [1] });
});
