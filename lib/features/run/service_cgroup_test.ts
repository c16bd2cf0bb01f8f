import assert from "node:assert/strict";
import {
  findCgroupLayout,
  parseCgroupMounts,
  parseOwnCgroups,
  planLimits,
  ServiceCgroup,
} from "./service_cgroup.ts";

const _MOUNTINFO = `22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
34 30 0:31 /docker/abc /sys/fs/cgroup/memory ro,relatime - cgroup cgroup rw,memory
40 30 0:37 / /sys/fs/cgroup/un\\040ified rw,relatime - cgroup2 cgroup2 rw
`;

Deno.test("parseCgroupMounts() finds v1 hierarchies with their controllers and v2 mounts", () => {
  assert.deepEqual(parseCgroupMounts(_MOUNTINFO), [
    {
      version: 1,
      mountPoint: "/sys/fs/cgroup/cpu,cpuacct",
      root: "/",
      controllers: ["cpu", "cpuacct"],
      readOnly: false,
    },
    {
      version: 1,
      mountPoint: "/sys/fs/cgroup/cpuset",
      root: "/",
      controllers: ["cpuset"],
      readOnly: false,
    },
    {
      version: 1,
      mountPoint: "/sys/fs/cgroup/memory",
      root: "/docker/abc",
      controllers: ["memory"],
      readOnly: true,
    },
    {
      version: 2,
      mountPoint: "/sys/fs/cgroup/un ified",
      root: "/",
      controllers: [],
      readOnly: false,
    },
  ]);
});

Deno.test("parseOwnCgroups() reads wrapp's cgroup per controller", () => {
  const own = parseOwnCgroups(
    "4:memory:/system.slice/wrapp@robot.service\n2:cpu,cpuacct:/system.slice\n0::/\n",
  );
  assert.equal(own.get("memory"), "/system.slice/wrapp@robot.service");
  assert.equal(own.get("cpu"), "/system.slice");
  assert.equal(own.get("cpuacct"), "/system.slice");
  assert.equal(own.get(""), "/");
});

Deno.test("planLimits() watches the RSS when wrapp is not root or has no cgroups, and says why", async () => {
  const empty = await Deno.makeTempDir();
  try {
    const limits = { memoryMaxBytes: 64 << 20, cpuMaxPercent: 50 };
    assert.deepEqual(planLimits(limits, { uid: 1000, cgroupRoot: empty }), {
      method: "rss",
      reason: "wrapp is not root (a cgroup of its own needs root)",
      unenforced: "cpu_max needs a cgroup: wrapp is not root (a cgroup of its own needs root)",
    });
    const rootless = planLimits({ memoryMaxBytes: 64 << 20 }, { uid: 0, cgroupRoot: empty });
    assert.equal(rootless.method, "rss");
    assert.equal(
      rootless.reason,
      `no cgroup filesystem in "${empty}" ($WRAPP_CGROUP_ROOT) has the memory controller (none is mounted)`,
    );
    assert.equal(rootless.unenforced, undefined);
    const cpuOnly = planLimits({ cpuMaxPercent: 50 }, { uid: 1000 });
    assert.equal(cpuOnly.method, "none");
    assert.match(cpuOnly.unenforced ?? "", /^cpu_max needs a cgroup: wrapp is not root/);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("cgroup v1: the limits are written per controller, the pid into each, the outcome read back", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/memory`);
    await Deno.mkdir(`${root}/cpu,cpuacct`);
    const plan = planLimits({ memoryMaxBytes: 64 << 20, cpuMaxPercent: 150 }, {
      uid: 0,
      cgroupRoot: root,
    });
    assert.equal(plan.method, "cgroup");
    assert.deepEqual(plan.layout, {
      version: 1,
      memoryParent: `${root}/memory/wrapp`,
      cpuParent: `${root}/cpu,cpuacct/wrapp`,
    });
    const cgroup = ServiceCgroup.create(plan.layout!, "robot", {
      memoryMaxBytes: 64 << 20,
      cpuMaxPercent: 150,
    });
    const memory = `${root}/memory/wrapp/robot`;
    const cpu = `${root}/cpu,cpuacct/wrapp/robot`;
    assert.deepEqual(cgroup.folders, [memory, cpu]);
    assert.equal(await Deno.readTextFile(`${memory}/memory.limit_in_bytes`), String(64 << 20));
    assert.equal(await Deno.readTextFile(`${cpu}/cpu.cfs_period_us`), "100000");
    assert.equal(await Deno.readTextFile(`${cpu}/cpu.cfs_quota_us`), "150000");
    cgroup.addProcess(4242);
    assert.equal(await Deno.readTextFile(`${memory}/cgroup.procs`), "4242");
    assert.equal(await Deno.readTextFile(`${cpu}/cgroup.procs`), "4242");
    assert.deepEqual(cgroup.outcome(), { oomKills: 0 });
    await Deno.writeTextFile(
      `${memory}/memory.oom_control`,
      "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
    );
    await Deno.writeTextFile(`${memory}/memory.max_usage_in_bytes`, `${64 << 20}\n`);
    assert.deepEqual(cgroup.outcome(), { oomKills: 1, peakBytes: 64 << 20 });
    // A folder of plain files is no cgroup: rmdir fails, and remove() says so.
    assert.match(await cgroup.remove(100) ?? "", /^cannot remove cgroup ".*\/robot": /);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("cgroup v2: the controllers are handed down to wrapp/, the limits written in one folder", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${root}/cgroup.controllers`, "cpuset cpu io memory pids\n");
    await Deno.writeTextFile(`${root}/cgroup.subtree_control`, "memory\n");
    const found = findCgroupLayout(["memory", "cpu"], { cgroupRoot: root });
    assert.ok("layout" in found, JSON.stringify(found));
    const cgroup = ServiceCgroup.create(found.layout, "robot", {
      memoryMaxBytes: 512 << 20,
      cpuMaxPercent: 50,
    });
    // The root lacked only cpu; wrapp/ had neither.
    assert.equal(await Deno.readTextFile(`${root}/cgroup.subtree_control`), "+cpu");
    assert.equal(await Deno.readTextFile(`${root}/wrapp/cgroup.subtree_control`), "+memory +cpu");
    assert.deepEqual(cgroup.folders, [`${root}/wrapp/robot`]);
    assert.equal(await Deno.readTextFile(`${root}/wrapp/robot/memory.max`), String(512 << 20));
    assert.equal(await Deno.readTextFile(`${root}/wrapp/robot/cpu.max`), "50000 100000");
    await Deno.writeTextFile(
      `${root}/wrapp/robot/memory.events`,
      "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n",
    );
    await Deno.writeTextFile(`${root}/wrapp/robot/memory.peak`, `${512 << 20}\n`);
    assert.deepEqual(cgroup.outcome(), { oomKills: 1, peakBytes: 512 << 20 });
    // A v2 mount without the controllers (systemd's hybrid "unified"): not usable.
    await Deno.writeTextFile(`${root}/cgroup.controllers`, "\n");
    assert.ok("problem" in findCgroupLayout(["memory"], { cgroupRoot: root }));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ServiceCgroup.create() says which file it could not write", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/memory/wrapp/robot/memory.limit_in_bytes`, { recursive: true });
    const layout = { version: 1 as const, memoryParent: `${root}/memory/wrapp` };
    assert.throws(
      () => ServiceCgroup.create(layout, "robot", { memoryMaxBytes: 1 << 20 }),
      (error: Error) => {
        assert.equal(error.name, "CgroupError");
        assert.match(
          error.message,
          /^Cannot write "1048576" to ".*\/memory\/wrapp\/robot\/memory\.limit_in_bytes": /,
        );
        return true;
      },
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
