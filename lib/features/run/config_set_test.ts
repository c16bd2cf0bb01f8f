import assert from "node:assert/strict";
import { ConfigError } from "../../core/errors.ts";
import { configFiles, loadConfigs, validateConfigSet } from "./config_set.ts";

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-config-set-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function service(name: string): string {
  return `[app]\nexecutable = "/bin/true"\nstream_name = "${name}"\n`;
}

Deno.test("configFiles(): a folder's *.toml and *.json in name order, not dot files, not folders", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/b.toml`, service("b"));
    await Deno.writeTextFile(`${dir}/a.json`, "{}");
    await Deno.writeTextFile(`${dir}/.hidden.toml`, service("h"));
    await Deno.writeTextFile(`${dir}/notes.txt`, "");
    await Deno.mkdir(`${dir}/folder.toml`);
    await Deno.symlink(`${dir}/folder.toml`, `${dir}/link.toml`);
    await Deno.symlink(`${dir}/b.toml`, `${dir}/c.toml`);
    assert.deepEqual(await configFiles([dir, `${dir}/notes.txt`]), [
      `${dir}/a.json`,
      `${dir}/b.toml`,
      `${dir}/c.toml`,
      `${dir}/notes.txt`,
    ]);
    await Deno.mkdir(`${dir}/empty`);
    await assert.rejects(() => configFiles([`${dir}/empty`]), ConfigError);
    await assert.rejects(() => configFiles([`${dir}/missing`]), /Cannot read config/);
  });
});

Deno.test("validateConfigSet() keeps the valid configs and names every bad file; loadConfigs() throws it", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.toml`, service("a"));
    await Deno.writeTextFile(`${dir}/b.toml`, "[app\n");
    await Deno.writeTextFile(`${dir}/c.toml`, "[nope]\n");
    const { configs, error } = await validateConfigSet([dir], ", nothing started");
    assert.deepEqual(configs.map((c) => c.app.streamName), ["a"]);
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /^2 of 3 configs are invalid, nothing started:\n {2}/);
    await assert.rejects(() => loadConfigs([dir]), /^ConfigError: 2 of 3 configs are invalid/);
  });
});

Deno.test("validateConfigSet(): two services sharing a stream_name conflict", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.toml`, service("same"));
    await Deno.writeTextFile(`${dir}/b.toml`, service("same"));
    const { configs, error } = await validateConfigSet([dir]);
    assert.equal(configs.length, 2);
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /same/);
    assert.deepEqual((await validateConfigSet([`${dir}/a.toml`])).error, undefined);
  });
});
