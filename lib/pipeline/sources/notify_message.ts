/**
 * The systemd notify protocol's messages (sd_notify(3)): one datagram holds
 * newline-separated `NAME=value` assignments, such as `READY=1\nSTATUS=Serving 3 clients`.
 *
 * {@linkcode parseNotifyMessage} keeps what a supervisor acts on (`READY=1`,
 * `WATCHDOG=1`, `WATCHDOG=trigger`, `WATCHDOG_USEC=`, `STATUS=`, `STOPPING=1`, …) and
 * every other assignment as it came, so nothing a service sends is lost.
 *
 * @module
 */

/** What one notify datagram says. Fields are absent when the datagram did not set them. */
export interface NotifyMessage {
  /** `READY=1`: start-up is finished. */
  ready?: true;
  /** `RELOADING=1`: the service is reloading its configuration. */
  reloading?: true;
  /** `STOPPING=1`: the service is shutting down. */
  stopping?: true;
  /** `STATUS=…`: a one-line status text for people. */
  status?: string;
  /** `WATCHDOG=1` (`ping`: still alive), or `WATCHDOG=trigger` (the service asks for the watchdog action now). */
  watchdog?: "ping" | "trigger";
  /** `WATCHDOG_USEC=…`: a new watchdog timeout, µs (0 turns the watchdog off). */
  watchdogUsec?: number;
  /** `EXTEND_TIMEOUT_USEC=…`, µs. */
  extendTimeoutUsec?: number;
  /** `MAINPID=…`: the service's main pid, when not the one started. */
  mainPid?: number;
  /** `ERRNO=…`: the errno the service failed with. */
  errno?: number;
  /** `BARRIER=1`: the sender waits until this datagram is read (its descriptor is closed then). */
  barrier?: true;
  /** Every assignment in order, unknown ones included (the last value of a repeated name wins). */
  fields: Record<string, string>;
  /** Lines that are not `NAME=value` assignments, ignored as systemd does. */
  invalid: string[];
}

/** Names of variables in a notify message: upper-case letters, digits and `_`, as systemd accepts them. */
const _NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * Parse one notify datagram. Never throws: malformed lines are listed in `invalid` and a
 * known name with a malformed value (`READY=yes`, `WATCHDOG_USEC=soon`) stays in `fields`
 * only, as systemd ignores it.
 *
 * ```ts
 * parseNotifyMessage("READY=1\nSTATUS=Listening on :8080");
 * // { ready: true, status: "Listening on :8080", fields: {…}, invalid: [] }
 * ```
 */
export function parseNotifyMessage(text: string): NotifyMessage {
  const message: NotifyMessage = { fields: {}, invalid: [] };
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const equals = line.indexOf("=");
    const name = equals > 0 ? line.slice(0, equals) : "";
    if (!_NAME.test(name)) {
      message.invalid.push(line);
      continue;
    }
    const value = line.slice(equals + 1);
    message.fields[name] = value;
    switch (name) {
      case "READY":
        if (value === "1") message.ready = true;
        break;
      case "RELOADING":
        if (value === "1") message.reloading = true;
        break;
      case "STOPPING":
        if (value === "1") message.stopping = true;
        break;
      case "STATUS":
        message.status = value;
        break;
      case "WATCHDOG":
        if (value === "1") message.watchdog = "ping";
        else if (value === "trigger") message.watchdog = "trigger";
        break;
      case "BARRIER":
        if (value === "1") message.barrier = true;
        break;
      case "WATCHDOG_USEC":
      case "EXTEND_TIMEOUT_USEC":
      case "MAINPID":
      case "ERRNO": {
        const number = _unsigned(value);
        if (number === undefined) break;
        if (name === "WATCHDOG_USEC") message.watchdogUsec = number;
        else if (name === "EXTEND_TIMEOUT_USEC") message.extendTimeoutUsec = number;
        else if (name === "MAINPID") {
          if (number > 0) message.mainPid = number;
        } else message.errno = number;
        break;
      }
    }
  }
  return message;
}

/** A decimal unsigned integer, or `undefined`. */
function _unsigned(text: string): number | undefined {
  if (!/^\d{1,19}$/.test(text)) return undefined;
  const number = Number(text);
  return Number.isSafeInteger(number) ? number : undefined;
}
