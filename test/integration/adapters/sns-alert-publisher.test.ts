import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSnsClient, SMS_TYPE_ATTRIBUTE, SnsAlertPublisher } from "#shared/adapters/sns-alert-publisher";
import { type AlertNotification, buildNotification } from "#shared/domain/alerts/alert-notification";
import { CANARY_VALUES, sampleMessage } from "../../fixtures/decision-messages.ts";
import { type FakeSns, startFakeSns } from "../../support/fake-sns.ts";

/**
 * The SNS publisher on the wire. By default against a local server speaking the SNS Query
 * protocol; with VIGIL_TEST_SNS_TOPIC_ARN set, the target tests run against that topic instead
 * (LocalStack: also set AWS_ENDPOINT_URL_SNS; AWS: real credentials). Failure injection always
 * runs on the local server, the only place failures can be scripted.
 */
const realTopic = process.env.VIGIL_TEST_SNS_TOPIC_ARN;
const FAKE_TOPIC = "arn:aws:sns:us-east-1:000000000000:vigil-test-alerts";
const fakeEnv = (fake: FakeSns) => ({
  AWS_ENDPOINT_URL_SNS: fake.endpoint,
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
});
const noSleep = async () => {};

function notifications(n: number, channel: "sms" | "email" = "sms"): AlertNotification[] {
  return Array.from({ length: n }, (_, i) =>
    buildNotification(sampleMessage(`evt-${i}`), channel, "critical", 0),
  );
}

describe("SnsAlertPublisher against the target topic", () => {
  let fake: FakeSns;
  let publisher: SnsAlertPublisher;
  beforeAll(async () => {
    fake = await startFakeSns();
    publisher = realTopic
      ? new SnsAlertPublisher(createSnsClient(process.env), realTopic)
      : new SnsAlertPublisher(createSnsClient(fakeEnv(fake)), FAKE_TOPIC);
  });
  afterAll(() => fake.close());

  it("publishes one notification with Publish, subject and routing attributes included", async () => {
    const [email] = notifications(1, "email");
    const outcomes = await publisher.publish(email ? [email] : []);
    expect(outcomes).toEqual([{ ok: true, messageId: expect.any(String) }]);
    if (realTopic) return;
    expect(fake.actions).toEqual(["Publish"]);
    expect(fake.signedRequests).toBe(1);
    const [sent] = fake.published;
    expect(sent).toMatchObject({ topicArn: FAKE_TOPIC, subject: email?.subject, message: email?.text });
    expect(sent?.attributes).toEqual({
      severity: { dataType: "String", value: "critical" },
      action: { dataType: "String", value: "block" },
      scenario: { dataType: "String", value: "payment" },
      channel: { dataType: "String", value: "email" },
    });
  });

  it("publishes 23 notifications in PublishBatch calls of at most ten", async () => {
    const before = fake.actions.length;
    const outcomes = await publisher.publish(notifications(23));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(new Set(outcomes.map((o) => (o.ok ? o.messageId : ""))).size).toBe(23);
    if (realTopic) return;
    expect(fake.actions.slice(before)).toEqual(["PublishBatch", "PublishBatch", "PublishBatch"]);
    for (const sent of fake.published.slice(-23)) {
      expect(sent.message.length).toBeLessThanOrEqual(140);
      for (const canary of CANARY_VALUES) expect(sent.message).not.toContain(canary);
    }
  });
});

describe("SnsAlertPublisher SMS type on the SNS Query protocol", () => {
  let fake: FakeSns;
  let publisher: SnsAlertPublisher;
  beforeAll(async () => {
    fake = await startFakeSns();
    publisher = new SnsAlertPublisher(createSnsClient(fakeEnv(fake), 1), FAKE_TOPIC, { sleep: noSleep });
  });
  afterAll(() => fake.close());

  const transactional = { dataType: "String", value: "Transactional" };

  it("sends an SMS notification as Transactional, with Publish and with PublishBatch", async () => {
    await publisher.publish(notifications(1, "sms"));
    await publisher.publish(notifications(3, "sms"));
    expect(fake.actions).toEqual(["Publish", "PublishBatch"]);
    expect(fake.published).toHaveLength(4);
    for (const sent of fake.published) {
      expect(sent.attributes[SMS_TYPE_ATTRIBUTE]).toEqual(transactional);
      expect(sent.attributes.channel).toEqual({ dataType: "String", value: "sms" });
    }
  });

  it("leaves the SMS type off email notifications", async () => {
    const before = fake.published.length;
    await publisher.publish(notifications(2, "email"));
    for (const sent of fake.published.slice(before))
      expect(sent.attributes[SMS_TYPE_ATTRIBUTE]).toBeUndefined();
  });
});

describe("SnsAlertPublisher failure handling on the SNS Query protocol", () => {
  let fake: FakeSns;
  let publisher: SnsAlertPublisher;
  beforeAll(async () => {
    fake = await startFakeSns();
    // SDK retries off: the publisher's own rounds are under test.
    publisher = new SnsAlertPublisher(createSnsClient(fakeEnv(fake), 1), FAKE_TOPIC, { sleep: noSleep });
  });
  beforeEach(() => {
    fake.published.length = 0;
    fake.actions.length = 0;
    fake.failEntry = undefined;
    fake.throttleNext(0);
  });
  afterAll(() => fake.close());

  it("retries a throttled Publish and then succeeds", async () => {
    fake.throttleNext(2);
    const outcomes = await publisher.publish(notifications(1));
    expect(outcomes[0]?.ok).toBe(true);
    expect(fake.actions).toEqual(["Publish", "Publish", "Publish"]);
    expect(fake.published).toHaveLength(1);
  });

  it("retries a throttled PublishBatch as a whole", async () => {
    fake.throttleNext(1);
    const outcomes = await publisher.publish(notifications(4));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(fake.actions).toEqual(["PublishBatch", "PublishBatch"]);
    expect(fake.published).toHaveLength(4);
  });

  it("gives up after its attempts and reports the throttling as retryable", async () => {
    fake.throttleNext(100);
    const outcomes = await publisher.publish(notifications(2));
    expect(outcomes).toEqual([
      { ok: false, retryable: true, code: "Throttling", message: "Rate exceeded" },
      { ok: false, retryable: true, code: "Throttling", message: "Rate exceeded" },
    ]);
    expect(fake.actions).toHaveLength(4);
    expect(fake.published).toHaveLength(0);
  });

  it("re-sends only the failed entries of a partial batch failure, and never the refused ones", async () => {
    // Email bodies name the event, so each entry's text is distinct.
    const batch = notifications(5, "email");
    const transient = new Map([[batch[1]?.text, 1]]);
    fake.failEntry = (message) => {
      if (message === batch[3]?.text) return { code: "InvalidParameter", senderFault: true };
      const left = transient.get(message) ?? 0;
      if (left === 0) return undefined;
      transient.set(message, left - 1);
      return { code: "InternalError", senderFault: false };
    };
    const outcomes = await publisher.publish(batch);
    expect(outcomes.map((o) => (o.ok ? "ok" : `${o.code}:${o.retryable}`))).toEqual([
      "ok",
      "ok",
      "ok",
      "InvalidParameter:false",
      "ok",
    ]);
    // First round: 5 entries (2 failed), second round: only the transient one, as a single Publish.
    expect(fake.actions).toEqual(["PublishBatch", "Publish"]);
    expect(fake.published.map((p) => p.message).sort()).toEqual(
      [batch[0], batch[1], batch[2], batch[4]].map((n) => n?.text).sort(),
    );
  });
});
