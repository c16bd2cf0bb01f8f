import assert from "node:assert/strict";
import type { Config } from "../../core/config/config.ts";
import type { StatusEvent } from "../../core/event.ts";
import { reportNotifyNews } from "./service_notify.ts";
import type { SupervisionContext } from "./supervision_context.ts";

Deno.test("reportNotifyNews() turns each notify message into an info status naming it", () => {
  const statuses: Array<[StatusEvent["phase"], string, StatusEvent["fields"]]> = [];
  const context: SupervisionContext = {
    config: { app: { streamName: "arm" } } as unknown as Config,
    runId: "r1",
    debug: () => {},
    status: (phase, message, fields) => void statuses.push([phase, message, fields]),
    emit: () => {},
    notice: () => Promise.resolve(),
    stderrLine: () => {},
  };
  reportNotifyNews(context, { kind: "ready", pid: 7 });
  reportNotifyNews(context, { kind: "status", pid: 7, text: "warming up" });
  reportNotifyNews(context, { kind: "timeout", pid: 7, timeoutMs: 500 });
  reportNotifyNews(context, { kind: "timeout", pid: 7 });
  assert.deepEqual(statuses, [
    ["info", "arm is ready (READY=1)", { run: "r1", pid: 7, notify: "READY=1" }],
    ["info", "arm status: warming up", {
      run: "r1",
      pid: 7,
      notify: "STATUS",
      status_text: "warming up",
    }],
    ["info", "arm set its watchdog timeout to 500 ms (WATCHDOG_USEC)", {
      run: "r1",
      pid: 7,
      notify: "WATCHDOG_USEC",
      watchdog_timeout_ms: 500,
    }],
    ["info", "arm turned its watchdog off (WATCHDOG_USEC=0)", {
      run: "r1",
      pid: 7,
      notify: "WATCHDOG_USEC",
      watchdog_timeout_ms: 0,
    }],
  ]);
});
