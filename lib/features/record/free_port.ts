/**
 * A free TCP port on the loopback interface, for the servers `wrapp record` starts.
 *
 * @module
 */

/**
 * A TCP port on 127.0.0.1 that nobody listens on right now: the kernel picks it (port 0),
 * the listener is closed and the number returned. Another program could take it before
 * the server binds it; the server then fails to start and says so.
 */
export function freeLoopbackPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    return (listener.addr as Deno.NetAddr).port;
  } finally {
    listener.close();
  }
}
