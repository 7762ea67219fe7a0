import type { KinesisClient } from "@aws-sdk/client-kinesis";
import { putRecords } from "#shared/adapters/kinesis-producer";
import {
  createPseudonymizer,
  decisionPartitionKey,
  encodeDecisionMessage,
  toDecisionMessage,
} from "#shared/domain/decision-message/index";
import type { DecidedEvent, DecisionPublisher } from "#shared/ports/decision-publisher";
import type { PseudonymKeySource } from "#shared/ports/pseudonym-key-source";

/** Raised when some decision messages were not accepted by Kinesis after every retry. */
export class DecisionPublishError extends Error {
  override readonly name = "DecisionPublishError";
}

/**
 * Publishes decisions on the decisions stream as pseudonymized decision messages
 * (docs/decisions-stream.md): partition key the pseudonymous userId, so one user's decisions
 * stay in order; raw identifiers never leave the score function.
 */
export class KinesisDecisionPublisher implements DecisionPublisher {
  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
    private readonly keys: PseudonymKeySource,
  ) {}

  async publish(decided: readonly DecidedEvent[]): Promise<void> {
    if (decided.length === 0) return;
    const pseudonymizer = createPseudonymizer(await this.keys.load());
    const records = decided.map(({ event, decision }) => {
      const message = toDecisionMessage(
        event,
        decision,
        decision.features?.values ?? {},
        pseudonymizer,
        decision.decidedAt,
      );
      return { data: encodeDecisionMessage(message), partitionKey: decisionPartitionKey(message) };
    });
    const result = await putRecords(this.kinesis, this.streamName, records);
    if (result.failed.length > 0) {
      const codes = [...new Set(result.failed.map((f) => f.errorCode))].join(", ");
      throw new DecisionPublishError(
        `${result.failed.length} of ${records.length} decision messages not accepted (${codes})`,
      );
    }
  }
}
