import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../../local/emulators";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

describe("freePort", () => {
  it("chooses a bindable port below the kernel's ephemeral range, so an outgoing connection cannot take it meanwhile", async () => {
    for (let i = 0; i < 20; i++) {
      const port = await freePort();
      expect(port).toBeGreaterThanOrEqual(20000);
      expect(port).toBeLessThan(32768);
      const server = createServer();
      servers.push(server);
      await new Promise<void>((done, fail) => {
        server.once("error", fail);
        server.listen(port, "127.0.0.1", done);
      });
    }
  });

  it("never returns a port it was told is taken, nor one another process is listening on", async () => {
    const held: number[] = [];
    for (let i = 0; i < 30; i++) {
      const port = await freePort(held);
      expect(held).not.toContain(port);
      const server = createServer();
      servers.push(server);
      await new Promise<void>((done, fail) => {
        server.once("error", fail);
        server.listen(port, "127.0.0.1", done);
      });
      held.push(port);
    }
  });
});
