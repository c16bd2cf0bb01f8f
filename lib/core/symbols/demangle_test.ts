import assert from "node:assert/strict";
import { Demangler, isMangled, isRustName } from "./demangle.ts";

const CI = Deno.env.get("CI") === "true";

async function hasCxxfilt(): Promise<boolean> {
  try {
    return (await new Deno.Command("c++filt", { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

Deno.test("Demangler.demangle() reads C++, legacy Rust and Rust v0 names", async () => {
  if (!await hasCxxfilt()) {
    if (CI) throw new Error("c++filt is needed for this test (apt-get install binutils)");
    return;
  }
  const demangler = new Demangler();
  const names = await demangler.demangle([
    "_ZNSt6vectorIiSaIiEE9push_backERKi",
    "_ZN5alloc3vec16Vec$LT$T$C$A$GT$4push17h0123456789abcdefE",
    "_RNvCs1234_7mycrate3foo",
    "main",
    "_Z3fooi.isra.0",
  ]);
  assert.deepEqual(names, [
    "std::vector<int, std::allocator<int> >::push_back(int const&)",
    "alloc::vec::Vec<T,A>::push::h0123456789abcdef",
    "mycrate[3c1c0]::foo",
    "main",
    "foo(int) [clone .isra.0]",
  ]);
  assert.equal(demangler.cached("_RNvCs1234_7mycrate3foo"), "mycrate[3c1c0]::foo");
});

Deno.test("Demangler keeps names as they are when c++filt is missing", async () => {
  const told: string[] = [];
  const demangler = new Demangler({ cxxfilt: "/nonexistent/c++filt", debug: (m) => told.push(m) });
  assert.deepEqual(await demangler.demangle(["_Z3foov", "bar"]), ["_Z3foov", "bar"]);
  assert.deepEqual(await demangler.demangle(["_Z3bazv"]), ["_Z3bazv"]);
  assert.equal(told.length, 1);
});

Deno.test("isMangled() and isRustName() tell the kinds of names apart", () => {
  assert.equal(isMangled("_ZN3foo3barEv"), true);
  assert.equal(isMangled("_RNvCs1234_7mycrate3foo"), true);
  assert.equal(isMangled("malloc"), false);
  assert.equal(isRustName("_ZN4core3ptr13drop_in_place17h2b0f1e0e0e0e0e0eE"), true);
  assert.equal(isRustName("core::ptr::drop_in_place::h2b0f1e0e0e0e0e0e"), true);
  assert.equal(isRustName("_RNvCs1234_7mycrate3foo"), true);
  assert.equal(isRustName("_ZN3foo3barEv"), false);
  assert.equal(isRustName("alloc_a"), false);
});
