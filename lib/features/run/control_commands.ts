/**
 * The Redis control stream of a supervised service (`wrapp:<name>:control`): restart,
 * stop or signal it from anywhere; every command is acknowledged as a status event.
 *
 * @module
 */

import type { RedisControl } from "../../pipeline/sources/redis_control.ts";
import type { SupervisionContext } from "./supervision_context.ts";

/** What a control command can do to the service. */
export interface ControlTarget {
  /** Restart it now. */
  restart(): void;
  /** Stop it for good. */
  stop(): void;
  /** Send it a signal. */
  signal(signal: Deno.Signal): unknown;
}

/** Follow the Redis control stream, when Redis is configured and reachable. */
export async function startControl(
  context: SupervisionContext,
  target: ControlTarget,
): Promise<RedisControl | undefined> {
  const { redis, app } = context.config;
  if (!redis) return undefined;
  const { RedisControl } = await import("../../pipeline/sources/redis_control.ts");
  const key = `wrapp:${app.streamName}:control`;
  const ack = (entry: { id: string; text: string }, message: string, accepted: boolean) =>
    context.status(accepted ? "info" : "warning", message, {
      run: context.runId,
      control_id: entry.id,
      command: entry.text,
      accepted,
    });
  return new RedisControl(redis, {
    db: redis.dbState,
    key,
    name: `wrapp:${app.streamName}`,
    debug: context.debug,
    onCommand: (command, entry) => {
      ack(entry, `control: ${entry.text} (entry ${entry.id})`, true);
      if (command.kind === "restart") target.restart();
      else if (command.kind === "stop") target.stop();
      else target.signal(command.signal);
    },
    onReject: (reason, entry) =>
      ack(entry, `control: rejected "${entry.text}" (entry ${entry.id}): ${reason}`, false),
  });
}
