/**
 * What the Redis sink does once per batch, which at 1000 lines/s is once per line, timed
 * apart with `deno bench`, each beside what it replaced (README: "What a line allocates"):
 *
 * - a one-XADD pipeline written by the RESP writer (cut from shared slabs), beside the
 *   4 KiB buffer each pipeline used to allocate for itself;
 * - the delivery ledger's state written as bytes, beside the same text built as a string and
 *   encoded; and the ledger's whole per-batch change, with its `pwrite`.
 *
 * Run: `deno bench -A bench/per_line_bench.ts`
 *
 * @module
 */

import { RespCommandWriter } from "../lib/pipeline/sinks/resp_writer.ts";
import { writeLedgerText } from "../lib/pipeline/sinks/ledger_text.ts";
import { formatRanges, type SeqRange } from "../lib/pipeline/sinks/seq_ranges.ts";
import { DeliveryLedger } from "../lib/pipeline/sinks/delivery_ledger.ts";

// An XADD of one line as the sink writes it (the DB and the command lead the arguments).
const XADD = [
  "logs",
  "XADD",
  "logs:app:svc:info",
  "MAXLEN",
  "~",
  1000,
  "*",
  "message",
  "lat 3828 1796667570406309",
  "ts",
  1796667570406,
  "run",
  "20261207-181703-830006",
  "pid",
  10956,
  "host",
  "robot",
  "seq",
  132850,
];

Deno.bench("RESP: one XADD pipeline, its bytes cut from a shared slab", { group: "resp" }, () => {
  const writer = new RespCommandWriter();
  writer.command("XADD", XADD, 2);
  writer.take();
});

Deno.bench("RESP: the 4 KiB buffer each pipeline allocated before", {
  group: "resp",
  baseline: true,
}, () => {
  new Uint8Array(4096)[0] = 1;
});

const out = new Uint8Array(512);
const encoder = new TextEncoder();
let seq = 1_796_000_000;

Deno.bench("ledger: its state written as bytes", { group: "text" }, () => {
  seq++;
  writeLedgerText(out, { accepted: seq, held: [[seq, seq]], sending: [seq, seq], unreported: [] });
});

Deno.bench("ledger: the same text built as a string and encoded (before)", {
  group: "text",
  baseline: true,
}, () => {
  seq++;
  const held: SeqRange[] = [[seq, seq]];
  const text = `wrapp delivery ledger 1\naccepted ${seq}\nheld ${formatRanges(held)}\n` +
    `sending ${formatRanges([[seq, seq]])}\nunreported ${formatRanges([])}\n`;
  encoder.encodeInto(text, out);
});

const dir = Deno.makeTempDirSync({ prefix: "wrapp-per-line-bench-" });
const ledger = DeliveryLedger.open(dir);
ledger.next(1_796_000_000);
// Its file stays open, so its writes go on as before: nothing is left behind.
Deno.removeSync(dir, { recursive: true });

Deno.bench("ledger: one line's hold, send and release, with its pwrite", () => {
  const first = ledger.nextHeld(1, { defer: true });
  ledger.sending([first, first]);
  ledger.sent([first], { lazy: true });
});
