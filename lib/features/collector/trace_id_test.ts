import assert from "node:assert/strict";
import { quoteTraceId, TRACE_ID_MAX_BYTES, traceFileName, traceIdProblem } from "./trace_id.ts";

Deno.test("traceIdProblem() accepts the ids real clients send", () => {
  for (
    const id of [
      "tr-1718000000-0123456789abcdef0123456789abcdef",
      "build 42",
      "run_2024-06-10T12:00:00Z",
      "trace+v2@host=a,b",
      "répertoire-追踪",
      "x".repeat(TRACE_ID_MAX_BYTES),
      "a..b",
      "latest",
    ]
  ) {
    assert.equal(traceIdProblem(id), undefined, id);
  }
});

Deno.test("traceIdProblem() refuses ids that would escape the folder or hide the file", () => {
  assert.equal(traceIdProblem(""), "it is empty");
  assert.match(traceIdProblem("../x")!, /starts with "\."/);
  assert.match(traceIdProblem("..")!, /starts with "\."/);
  assert.match(traceIdProblem(".")!, /starts with "\."/);
  assert.match(traceIdProblem(".hidden")!, /starts with "\."/);
  assert.equal(traceIdProblem("/etc/passwd"), 'it contains "/"');
  assert.equal(traceIdProblem("a/../../b"), 'it contains "/"');
  assert.equal(traceIdProblem("a\\b"), 'it contains "\\"');
  assert.equal(traceIdProblem("a\0b"), "it contains the control character U+0000");
  assert.equal(traceIdProblem("a\nb"), "it contains the control character U+000A");
  assert.equal(traceIdProblem("a\x7fb"), "it contains the control character U+007F");
  assert.equal(traceIdProblem("-o"), 'it starts with "-"');
  assert.equal(traceIdProblem("a\ud800b"), "it contains a lone UTF-16 surrogate");
  assert.equal(
    traceIdProblem("é".repeat(101)),
    `it is 202 bytes long, more than ${TRACE_ID_MAX_BYTES}`,
  );
});

Deno.test("quoteTraceId() shows control characters as escapes and traceFileName() adds .jsonl", () => {
  assert.equal(quoteTraceId("a\0b"), '"a\\u0000b"');
  assert.equal(traceFileName("tr-1"), "tr-1.jsonl");
});
