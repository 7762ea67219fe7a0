import { memoryWorld } from "../../support/score-path.ts";
import { describeScorePath } from "../../support/score-path-suite.ts";

describeScorePath("the in-memory stores", {
  world: async (nowMs) => memoryWorld(nowMs),
  size: 24,
  nths: [1, 2, 4],
});
