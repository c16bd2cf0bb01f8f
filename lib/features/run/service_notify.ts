/**
 * `[watchdog]` in a supervision: the notify socket bound before the first start, and what
 * the service says on it reported as status events (`STATUS=` also lands in the state
 * hash).
 *
 * @module
 */

import type { UserSwitch } from "../../core/run_as_user.ts";
import type { HangAlarm, NotifyNews, ServiceWatchdog } from "./watchdog/service_watchdog.ts";
import type { SupervisionContext } from "./supervision_context.ts";

/** Bind the notify socket (owned by the service's user), when `[watchdog]` is on. */
export async function openServiceWatchdog(
  context: SupervisionContext,
  userSwitch: UserSwitch | undefined,
  onHang: (alarm: HangAlarm) => void,
): Promise<ServiceWatchdog | undefined> {
  const config = context.config.watchdog;
  if (!config) return undefined;
  const { ServiceWatchdog } = await import("./watchdog/service_watchdog.ts");
  const watchdog = await ServiceWatchdog.open(config, {
    owner: userSwitch ? { uid: userSwitch.account.uid, gid: userSwitch.gid } : undefined,
    onHang,
    onNews: (news) => reportNotifyNews(context, news),
    debug: context.debug,
  });
  context.debug(`notify socket ${watchdog.socketPath}`);
  return watchdog;
}

/** What the service said on its notify socket, as a status event. */
export function reportNotifyNews(context: SupervisionContext, news: NotifyNews): void {
  const name = context.config.app.streamName;
  const fields = { run: context.runId, pid: news.pid };
  switch (news.kind) {
    case "ready":
      context.status("info", `${name} is ready (READY=1)`, { ...fields, notify: "READY=1" });
      break;
    case "status":
      context.status("info", `${name} status: ${news.text}`, {
        ...fields,
        notify: "STATUS",
        status_text: news.text,
      });
      break;
    case "stopping":
      context.status("info", `${name} is stopping (STOPPING=1)`, {
        ...fields,
        notify: "STOPPING=1",
      });
      break;
    case "reloading":
      context.status("info", `${name} is reloading (RELOADING=1)`, {
        ...fields,
        notify: "RELOADING=1",
      });
      break;
    case "timeout":
      context.status(
        "info",
        news.timeoutMs === undefined
          ? `${name} turned its watchdog off (WATCHDOG_USEC=0)`
          : `${name} set its watchdog timeout to ${news.timeoutMs} ms (WATCHDOG_USEC)`,
        { ...fields, notify: "WATCHDOG_USEC", watchdog_timeout_ms: news.timeoutMs ?? 0 },
      );
      break;
  }
}
