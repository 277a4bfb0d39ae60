// Benchmark of the real app under Xvfb, through WebDriver, on a vault of 10,000
// secrets x 3 environments: cold start to the unlock screen, first paint of the key
// list after unlock, one search keystroke, and resident memory when idle.
//
//   bash tests/app/bench.sh            (release build; prints one line per figure)
//
// First paint and keystroke are measured inside the page (performance marks set by
// the UI, and performance.now() around an input event until the next frames), so
// WebDriver's own latency is not counted (a keystroke is timed to the first frame
// whose rows all match the query); cold start includes starting a WebDriver
// session, so it is an upper bound.
import { test } from "node:test";
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { remote } from "webdriverio";

const APP = process.env.COFFER_APP;
const CLI = process.env.COFFER_CLI;
const VAULT = process.env.COFFER_VAULT;
const PORT = Number(process.env.TAURI_DRIVER_PORT ?? 4444);
const PASS = "bench pass phrase 1";
// Secrets in the vault (COFFER_BENCH_SECRETS=100000 for the issue-14 figure).
const COUNT = Number(process.env.COFFER_BENCH_SECRETS ?? 10_000);

function cli(args) {
  const r = spawnSync(CLI, args, { encoding: "utf8", env: { ...process.env, COFFER_MEMBER: "alice", COFFER_PASSPHRASE: PASS } });
  if (r.status !== 0) throw new Error(`coffer ${args.join(" ")}: ${r.stderr}`);
}

async function session() {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await remote({
        hostname: "127.0.0.1",
        port: PORT,
        logLevel: "error",
        connectionRetryCount: 0,
        capabilities: { "tauri:options": { application: APP }, "wdio:enforceWebDriverClassic": true },
      });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

function rssKiB(pattern) {
  let total = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!pattern.test(cmd)) continue;
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) total += Number(m[1]);
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test(`app benchmark on ${COUNT.toLocaleString("en")} secrets`, { timeout: 600_000 }, async () => {
  cli(["init", "--owner", "alice"]);
  const dir = mkdtempSync(join(tmpdir(), "coffer-bench-"));
  const lines = Array.from({ length: COUNT }, (_, i) => `SECRET_${String(i).padStart(5, "0")}=value-${i}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(join(dir, "seed.env"), lines.join("\n") + "\n");
  for (const env of ["development", "staging", "production"]) cli(["import", join(dir, "seed.env"), "--env", env]);

  const cold = [];
  const paint = [];
  const keys = [];
  let idle = null;
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    const browser = await session();
    await (await browser.$('[aria-label="Passphrase"]')).waitForDisplayed({ timeout: 20_000 });
    cold.push(performance.now() - t0);

    await (await browser.$('[aria-label="Member name"]')).setValue("alice");
    await (await browser.$('[aria-label="Passphrase"]')).setValue(PASS);
    await (await browser.$("button=Unlock")).click();
    await browser.waitUntil(
      () => browser.execute(() => performance.getEntriesByName("coffer:secrets-listed").length > 0),
      { timeout: 30_000, interval: 50 },
    );
    paint.push(
      await browser.execute(() => {
        const a = performance.getEntriesByName("coffer:unlocked")[0];
        const b = performance.getEntriesByName("coffer:secrets-listed")[0];
        return b.startTime - a.startTime;
      }),
    );
    for (const ch of ["S", "E", "C", "R", "E", "T", "_", "0", "4", "2"]) {
      keys.push(
        await browser.executeAsync((c, done) => {
          const el = document.querySelector('[aria-label="Search secrets"]');
          const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
          const t = performance.now();
          setter.call(el, el.value + c);
          el.dispatchEvent(new Event("input", { bubbles: true }));
          const query = el.value.toUpperCase();
          // Done at the first frame whose rows all match the query (the deferred
          // filter has committed); that frame is the one that paints it.
          const check = () => {
            const rows = [...document.querySelectorAll('[role="row"][aria-label^="SECRET_"]')];
            if (rows.length > 0 && rows.every((r) => r.getAttribute("aria-label").includes(query))) {
              done(performance.now() - t);
            } else {
              requestAnimationFrame(check);
            }
          };
          requestAnimationFrame(check);
        }, ch),
      );
    }
    if (run === 2) {
      await new Promise((r) => setTimeout(r, 5_000));
      idle = {
        app: rssKiB(/coffer-app/),
        web: rssKiB(/WebKitWebProcess/),
        network: rssKiB(/WebKitNetworkProcess/),
      };
    }
    await browser.deleteSession();
  }
  const ms = (x) => `${x.toFixed(0)} ms`;
  console.log(`cold start to unlock screen (incl. WebDriver session): median ${ms(median(cold))} of ${cold.map(ms).join(", ")}`);
  console.log(`first paint of ${COUNT.toLocaleString("en")}-secret list after unlock: median ${ms(median(paint))} of ${paint.map(ms).join(", ")}`);
  console.log(`search keystroke to the frame showing the filtered list: median ${median(keys).toFixed(1)} ms, max ${Math.max(...keys).toFixed(1)} ms over ${keys.length}`);
  console.log(`idle resident memory: app ${(idle.app / 1024).toFixed(0)} MiB, web process ${(idle.web / 1024).toFixed(0)} MiB, network process ${(idle.network / 1024).toFixed(0)} MiB`);
});
