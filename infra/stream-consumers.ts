import { entriesOf } from "#infra/records";
import {
  type EventSourceMappingDefinition,
  FUNCTIONS,
  type FunctionDefinition,
  type FunctionKey,
} from "#shared/resources";

/** A function definition that has a Kinesis event source. */
export type StreamConsumerDefinition = FunctionDefinition & {
  readonly eventSource: EventSourceMappingDefinition;
};

/** Keys of the `FUNCTIONS` fed by a Kinesis event source mapping. */
export type StreamConsumerKey = {
  [K in FunctionKey]: (typeof FUNCTIONS)[K] extends { readonly eventSource: EventSourceMappingDefinition }
    ? K
    : never;
}[FunctionKey];

/** The `FUNCTIONS` entries that have an event source, with their key and definition. */
export function streamConsumerEntries(): Array<[StreamConsumerKey, StreamConsumerDefinition]> {
  return entriesOf<FunctionKey, FunctionDefinition>(FUNCTIONS).filter(
    (entry): entry is [StreamConsumerKey, StreamConsumerDefinition] => entry[1].eventSource !== undefined,
  );
}
