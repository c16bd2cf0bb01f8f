/**
 * Waiting until a freshly started server answers: a TCP request whose reply must match
 * (`PING` → `+PONG`, `GET /` → `HTTP/1.1 200`), or a command that must succeed
 * (`pg_isready`).
 *
 * @module
 */

/** Options for {@linkcode waitUntilReady}. */
export interface WaitOptions {
  /** Give up after this long, ms. Default 30000. */
  timeoutMs?: number;
  /** Time between attempts, ms. Default 50. */
  intervalMs?: number;
}

/**
 * Call `probe` until it resolves `true`. Rejects after `timeoutMs` with the last reason
 * the probe gave (`connection refused`).
 */
export async function waitUntilReady(
  probe: () => Promise<true | string>,
  options: WaitOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let last = "no attempt";
  while (true) {
    const outcome = await probe().catch((error) => String(error?.message ?? error));
    if (outcome === true) return;
    last = outcome;
    if (Date.now() >= deadline) {
      throw new Error(`not ready after ${timeoutMs / 1000} s (${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

/**
 * A probe that connects to 127.0.0.1:`port`, sends `request` and reads until the reply
 * matches `expect` (true) or the connection ends or 2 s pass (the reason).
 */
export function tcpProbe(
  port: number,
  request: string,
  expect: RegExp,
): () => Promise<true | string> {
  return async () => {
    let connection: Deno.TcpConn;
    try {
      connection = await Deno.connect({ hostname: "127.0.0.1", port });
    } catch (error) {
      return error instanceof Deno.errors.ConnectionRefused
        ? "connection refused"
        : String((error as Error).message);
    }
    const timer = setTimeout(() => connection.close(), 2000);
    try {
      await connection.write(new TextEncoder().encode(request));
      const buffer = new Uint8Array(4096);
      let reply = "";
      while (true) {
        const n = await connection.read(buffer);
        if (n === null) break;
        reply += new TextDecoder().decode(buffer.subarray(0, n));
        if (expect.test(reply)) return true;
      }
      return `unexpected reply ${JSON.stringify(reply.slice(0, 80))}`;
    } catch (error) {
      return String((error as Error).message);
    } finally {
      clearTimeout(timer);
      try {
        connection.close();
      } catch {
        // closed by the timer
      }
    }
  };
}

/** A probe that runs `command` and is ready when it exits 0. */
export function commandProbe(command: readonly string[]): () => Promise<true | string> {
  return async () => {
    const output = await new Deno.Command(command[0], {
      args: command.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (output.success) return true;
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    return text.trim().split("\n").at(-1) || `exit code ${output.code}`;
  };
}
