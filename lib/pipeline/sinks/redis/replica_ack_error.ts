/**
 * {@linkcode ReplicaAckError}: too few replicas confirmed a batch (`replicas_ack`).
 *
 * @module
 */

/**
 * `WAIT` said fewer replicas hold a batch than `RedisSinkOptions.replicasAck` asks for:
 * the batch is sent again.
 */
export class ReplicaAckError extends Error {
  /** Replicas that acknowledged. */
  readonly acknowledged: number;
  /** Replicas asked for. */
  readonly required: number;

  /** Create the error: `acknowledged` of `required` replicas within `timeoutMs`. */
  constructor(acknowledged: number, required: number, timeoutMs: number) {
    super(
      `${acknowledged} of the ${required} replica${
        required === 1 ? "" : "s"
      } asked for (replicas_ack) acknowledged the writes within ${timeoutMs} ms`,
    );
    this.name = "ReplicaAckError";
    this.acknowledged = acknowledged;
    this.required = required;
  }
}
