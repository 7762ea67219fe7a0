import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";

/** Environment slice the client factories read: the AWS SDK's own standard variables only. */
export type AwsEnv = Readonly<Record<string, string | undefined>>;

/** Services whose endpoint can be redirected with `AWS_ENDPOINT_URL_<SERVICE>`. */
export type AwsService = "KINESIS" | "DYNAMODB" | "SNS" | "SQS" | "SECRETS_MANAGER" | "S3" | "SFN";

/**
 * Endpoint the SDK will use for a service, from the SDK's standard variables
 * (`AWS_ENDPOINT_URL_<SERVICE>` first, then `AWS_ENDPOINT_URL`), or undefined for AWS itself.
 */
export function configuredEndpoint(service: AwsService, env: AwsEnv): string | undefined {
  return env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL;
}

/**
 * Client configuration from the SDK's standard variables. With the process environment the SDK
 * reads them itself; an explicit environment (a local stack handle, a test) is applied here the
 * same way, so one code path serves the laptop, LocalStack and AWS.
 */
export function clientConfig(service: AwsService, env: AwsEnv = process.env) {
  if (env === process.env) return {};
  const endpoint = configuredEndpoint(service, env);
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  return {
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
  };
}

/**
 * The Kinesis client. The SDK may talk HTTP/2 to Kinesis; emulators listening on plain `http://`
 * (Kinesis Mock, LocalStack) are spoken to over HTTP/1.1 with keep-alive instead. Pass
 * `http1: true` to force HTTP/1.1 anywhere.
 */
export function createKinesisClient(options: { env?: AwsEnv; http1?: boolean } = {}): KinesisClient {
  const env = options.env ?? process.env;
  const http1 = options.http1 ?? configuredEndpoint("KINESIS", env)?.startsWith("http:") ?? false;
  return new KinesisClient({
    ...clientConfig("KINESIS", env),
    ...(http1
      ? { requestHandler: new NodeHttpHandler({ httpAgent: { keepAlive: true, maxSockets: 50 } }) }
      : {}),
    maxAttempts: 5,
  });
}

/** The DynamoDB client; endpoint, region and credentials from the SDK's standard configuration. */
export function createDynamoDbClient(env: AwsEnv = process.env): DynamoDBClient {
  return new DynamoDBClient({ ...clientConfig("DYNAMODB", env), maxAttempts: 8 });
}
