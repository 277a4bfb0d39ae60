// The real Coffer app, driven through WebDriver (tauri-driver + WebKitWebDriver under
// Xvfb), from first run to delete and restore. Started by tests/app/run.sh, which sets:
//   COFFER_APP      absolute path of the built app
//   COFFER_CLI      absolute path of the `coffer` CLI (same vault, changes underneath)
//   COFFER_VAULT    the fresh vault both use
//   XDG_STATE_HOME  a fresh state directory, where both keep their audit anchors
//   COFFER_SCREENSHOTS  where the README's screenshots go (docs/screenshots)
//   COFFER_E2E_FAILURES where a screenshot of a failed step goes (target/e2e-failures)
//   COFFER_E2E_DISPLAY, COFFER_E2E_XAUTHORITY  the Xvfb display the app runs on, where
//                   xclip reads what the app put on the clipboard
//
// After every step the page's HTML is searched for every secret value used so far;
// a value may only be there while it is deliberately revealed.
//
// On the way, alice signs a checkpoint, exports the trail and archives its events from
// the app; the CLI verifies both files offline, as an outside auditor would. She backs
// the vault up from Settings → Backups (the CLI lists the same snapshot), restores it
// (the app locks and says what it did), and reads Settings → Health.
//
// Near the end, the trail's last events are deleted with sqlite3 while the app is
// locked; the next unlock must say so. Then the vault moves onto a team server (the
// suite's throw-away PostgreSQL): the status line goes online by itself, a member
// invited from Settings → Team joins from another home with the CLI and is admitted
// with the fingerprint from "his screen", and a change made on alice's other machine
// shows here within seconds. The last step swaps the vault for one written by an earlier Coffer
// (tests/fixtures/vault-v5.db) while the app is locked, to see the owner's upgrade.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { remote } from "webdriverio";

const APP = required("COFFER_APP");
const CLI = required("COFFER_CLI");
const VAULT = required("COFFER_VAULT");
const STATE = required("XDG_STATE_HOME");
const SHOTS = process.env.COFFER_SCREENSHOTS ?? "";
const PORT = Number(process.env.TAURI_DRIVER_PORT ?? 4444);

const ALICE_PASS = "correct horse battery staple";
/** The owner's recovery key, read from the first-run screen. */
let recoveryWords = [];
/** What alice gives bob when she adds him; he replaces it with his own at first unlock. */
const BOB_GIVEN = "plum given by alice 7";
const BOB_PASS = "tangerine otter violin lamp";
const SECRET = "STRIPE_API_KEY";

const token = (prefix) => `${prefix}${randomBytes(12).toString("hex")}`;
/** Every value this test puts in the vault; none may appear in the page unless revealed. */
const values = {
  staging: token("sk_test_"),
  production: token("sk_live_"),
  rotated: token("sk_live_"),
  typedDuringConflict: token("sk_live_"),
  fromCli: token("sk_live_"),
  database: token("postgres://app:pw_"),
  sentry: token("https://sentry_"),
  fromTeammate: token("sk_live_team_"),
  github: token("ghp_"),
  protectedEnv: token("sk_live_eu_"),
  beforeCut: token("sk_test_"),
};

let browser;
let failed = false;

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run this through tests/app/run.sh`);
  return v;
}

/**
 * What the app's display has on its clipboard as `target` (a MIME type, or TARGETS for
 * the list of types offered), read with xclip as a clipboard manager would; null when
 * nothing owns the clipboard or the type is not offered.
 */
function clipboard(target) {
  const r = spawnSync("xclip", ["-selection", "clipboard", "-o", "-t", target], {
    encoding: "utf8",
    timeout: 5_000,
    env: {
      ...process.env,
      DISPLAY: required("COFFER_E2E_DISPLAY"),
      XAUTHORITY: process.env.COFFER_E2E_XAUTHORITY ?? "",
    },
  });
  if (r.error) throw r.error;
  return r.status === 0 ? r.stdout : null;
}

/** Runs the CLI on the app's vault; returns {status, stdout, stderr}. */
function coffer(args, { member = "alice", passphrase = ALICE_PASS, stdin, env = {} } = {}) {
  const r = spawnSync(CLI, args, {
    input: stdin,
    encoding: "utf8",
    env: {
      ...process.env,
      COFFER_VAULT: VAULT,
      COFFER_MEMBER: member,
      COFFER_PASSPHRASE: passphrase,
      ...env,
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function cofferOk(args, opts) {
  const r = coffer(args, opts);
  assert.equal(r.status, 0, `coffer ${args.join(" ")} failed: ${r.stderr}`);
  return r;
}

async function connect() {
  const deadline = Date.now() + 20_000;
  let lastError;
  while (Date.now() < deadline) {
    try {
      return await remote({
        hostname: "127.0.0.1",
        port: PORT,
        logLevel: "error",
        connectionRetryCount: 0,
        waitforTimeout: 10_000,
        capabilities: {
          "tauri:options": { application: APP },
          "wdio:enforceWebDriverClassic": true,
        },
      });
    } catch (e) {
      lastError = e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`no WebDriver session within 20 s: ${lastError?.message ?? lastError}`);
}

/** Fails when any value except `allowed` is in the page's HTML. */
async function assertNoValuesInPage(allowed = []) {
  const html = await browser.getPageSource();
  for (const [label, value] of Object.entries(values)) {
    if (allowed.includes(value)) continue;
    assert.ok(!html.includes(value), `the value "${label}" is in the page's HTML`);
  }
  return html;
}

/** A test step that is skipped once an earlier one failed, and ends with a leak check. */
function step(name, fn) {
  test(name, async (t) => {
    if (failed) {
      t.skip("an earlier step failed");
      return;
    }
    try {
      await fn(t);
      await assertNoValuesInPage();
    } catch (e) {
      failed = true;
      const failures = process.env.COFFER_E2E_FAILURES;
      if (failures) {
        const file = name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60);
        await shoot(file, failures).then(
          () => console.error(`screenshot of the failure: ${join(failures, `${file}.png`)}`),
          () => undefined,
        );
      }
      throw e;
    }
  });
}

/** Extra pictures for reviewing the UI (COFFER_E2E_EXTRA_SHOTS=dir); not part of the docs. */
async function look(name) {
  if (process.env.COFFER_E2E_EXTRA_SHOTS) await shoot(name, process.env.COFFER_E2E_EXTRA_SHOTS);
}

async function shoot(name, dir = SHOTS) {
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  // No toasts in the pictures, and transitions (a dialog rising) settled.
  await browser.execute(() => document.querySelectorAll(".toast-close").forEach((b) => b.click()));
  await browser.pause(400);
  await browser.saveScreenshot(join(dir, `${name}.png`));
}

const $ = (sel) => browser.$(sel);
const byLabel = (label) => $(`[aria-label="${label}"]`);
const DIALOG = '[role="dialog"]';
const rowSel = (name) => `[role="row"][aria-label="${name}"]`;

/**
 * Polls `check` until it returns true. WebKitWebDriver sometimes answers a lookup that
 * races a React re-render with "stale element"; any error counts as "not yet".
 */
async function until(check, what, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

const waitShown = (sel, timeout) => until(async () => (await $(sel)).isDisplayed(), `${sel} to show`, timeout);
const waitExists = (sel, timeout) => until(async () => (await $(sel)).isExisting(), `${sel} to exist`, timeout);
const waitGone = (sel, timeout) => until(async () => !(await (await $(sel)).isExisting()), `${sel} to go`, timeout);

/** An element by text inside a CSS scope (WebdriverIO's text selectors do not combine with CSS). */
const $in = (scope, sel) => browser.$(scope).$(sel);

/** Runs `fn` again when WebKitWebDriver met a stale node (React re-rendered it meanwhile). */
async function retryStale(fn) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= 3 || !/stale/i.test(String(e?.message ?? e))) throw e;
      await browser.pause(200);
    }
  }
}

async function click(target) {
  await retryStale(async () => {
    const el = await (typeof target === "string" ? $(target) : target);
    await el.waitForClickable();
    await el.click();
  });
}

async function fill(label, text) {
  await retryStale(async () => {
    const el = await byLabel(label);
    await el.waitForDisplayed();
    await el.setValue(text);
    // A React-controlled field may put its old value back after WebDriver's clear:
    // then select all and type over it.
    if ((await el.getValue()) !== text) {
      await el.click();
      await browser.keys(["Control", "a"]);
      await browser.keys("Delete");
      await el.addValue(text);
    }
  });
}

async function submitDialog() {
  await click('[role="dialog"] button[type="submit"]');
}

/** The element's text content: WebDriver's getText skips text clipped by an ellipsis. */
async function textOf(sel) {
  return (await $(sel)).getProperty("textContent");
}

async function waitForText(sel, pattern, timeout = 10_000) {
  await until(async () => pattern.test(await textOf(sel)), `${sel} to match ${pattern}`, timeout);
}

async function openSecrets() {
  await click($in('nav[aria-label="Main"]', "button*=Secrets"));
  await waitShown("#secrets-title");
}

async function rowAction(name, action) {
  await click(`button[aria-label="Actions for ${name}"]`);
  await waitShown('[role="menu"]');
  const labels = await browser.execute(() =>
    Array.from(document.querySelectorAll('[role="menu"] [role="menuitem"]')).map((i) => i.textContent.trim()),
  );
  if (action === null) {
    await browser.keys("Escape");
    await waitGone('[role="menu"]');
    return labels;
  }
  await click($in('[role="menu"]', `button=${action}`));
  return labels;
}

async function unlockAs(member, passphrase) {
  await fill("Member name", member);
  await fill("Passphrase", passphrase);
  await click("button=Unlock");
  await waitShown("#secrets-title", 15_000);
  await waitForText('[aria-label="Signed in member"]', new RegExp(member));
}

async function lock() {
  await click('button[aria-label="Lock"]');
  await waitShown("h1=Unlock Coffer");
}

/** The aria-labels of the audit rows shown, read in the page in one go (no element handles to go stale). */
async function auditRows() {
  return browser.execute(() =>
    Array.from(document.querySelectorAll('[aria-label="Audit events"] .vtable-body [role="row"]')).map((r) =>
      r.getAttribute("aria-label"),
    ),
  );
}
const $$ = (sel) => browser.$$(sel);

async function filterAudit(action) {
  await $('select[aria-label="Action"]').selectByAttribute("value", action);
  let labels = [];
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    labels = await auditRows();
    if (labels.length > 0 && labels.every((l) => l?.startsWith(`${action} `))) return labels;
    await browser.pause(200);
  }
  assert.fail(`the audit list never showed only ${action} events; it shows ${JSON.stringify(labels)}`);
}

before(async () => {
  browser = await connect();
});

after(async () => {
  await browser?.deleteSession().catch(() => undefined);
});

step("first run creates the vault with alice as owner", async () => {
  await waitShown('[aria-label="Owner name"]', 15_000);
  await fill("Owner name", "alice");
  await fill("Passphrase", ALICE_PASS);
  await fill("Repeat passphrase", ALICE_PASS);
  await waitForText('[aria-label="Passphrase strength"]', /Strong|Very strong/);
  await shoot("first-run");
  await click("button=Create vault");
  await waitShown("h1=Your recovery key", 15_000);
});

step("first run shows the recovery key once and asks three of its words back", async () => {
  // Read the 24 words from the screen, in order, as a person would copy them.
  recoveryWords = await browser.execute(() =>
    Array.from(document.querySelectorAll('[aria-label="Recovery key words"] .recovery-word')).map((w) => w.textContent),
  );
  assert.equal(recoveryWords.length, 24, `24 words: ${JSON.stringify(recoveryWords)}`);
  assert.ok(recoveryWords.every((w) => /^[a-z]+$/.test(w)), JSON.stringify(recoveryWords));
  await waitShown("button=Print");
  await shoot("recovery-key");
  await click("button=I have written them down");

  // Three fields, one from each third of the key; a wrong word is said and may be typed again.
  await waitShown('form[aria-label="Check your recovery key"]');
  const asked = await browser.execute(() =>
    Array.from(document.querySelectorAll('form[aria-label="Check your recovery key"] input')).map((i) =>
      Number(/^Word (\d+)$/.exec(i.getAttribute("aria-label"))[1]),
    ),
  );
  assert.equal(asked.length, 3);
  assert.ok(asked[0] <= 8 && asked[1] > 8 && asked[1] <= 16 && asked[2] > 16, `one from each third: ${asked}`);
  await fill(`Word ${asked[0]}`, recoveryWords[asked[0] - 1]);
  await fill(`Word ${asked[1]}`, "notaword");
  await fill(`Word ${asked[2]}`, recoveryWords[asked[2] - 1].toUpperCase());
  await click("button=Check words");
  await waitShown(`p=That is not word ${asked[1]}: look at your copy again.`);
  await look("recovery-key-check");
  await fill(`Word ${asked[1]}`, recoveryWords[asked[1] - 1]);
  await click("button=Check words");
  await waitShown("#secrets-title", 15_000);
  await waitShown("h3=No secrets yet");
  await look("empty-secrets");
  // Gone from the page once confirmed.
  const html = await browser.getPageSource();
  assert.ok(!html.includes(recoveryWords.slice(0, 6).join("")), "the words left the page");
  // A word of the list may also be a word of the page ("staging" is a tab): one or two
  // are chance; the key left on the page would show all 24.
  const left = recoveryWords.filter((w) => w.length > 4 && html.includes(`>${w}<`));
  assert.ok(left.length < 3, `recovery words left on the page: ${left.join(" ")}`);
});

step("add a secret with values in two environments", async () => {
  await click($in(".page-header", "button=Add secret"));
  await waitShown(DIALOG);
  await fill("Name", SECRET);
  await fill("Description", "Stripe live API key for payments");
  await fill("Value for staging", values.staging);
  await fill("Value for production", values.production);
  await fill("Rotation period", "90d");
  // Typed values are input properties, never attributes: not in the page yet either.
  await assertNoValuesInPage();
  await look("add-secret");
  await submitDialog();
  await waitGone('[role="dialog"]');
  await waitShown(rowSel(SECRET));
  const cells = await textOf(`[role="row"][aria-label="${SECRET}"]`);
  assert.match(cells, /missing/);
  assert.equal((cells.match(/v1/g) ?? []).length, 2, `two environments at v1: ${cells}`);
});

step("secrets written with the CLI appear in the open app", async () => {
  cofferOk(["set", "DATABASE_URL", "--value-stdin", "--env", "production", "--description", "Primary Postgres (read-write)"], {
    stdin: values.database,
  });
  cofferOk(["set", "DATABASE_URL", "--value-stdin", "--env", "staging"], { stdin: values.database });
  cofferOk(["set", "SENTRY_DSN", "--value-stdin", "--env", "development", "--description", "Error reporting"], {
    stdin: values.sentry,
  });
  cofferOk(["set", "SENTRY_DSN", "--value-stdin", "--env", "production"], { stdin: values.sentry });
  cofferOk(
    ["set", "GITHUB_DEPLOY_TOKEN", "--value-stdin", "--env", "production", "--expires-in", "2d", "--description", "CI deploys to GitHub Pages"],
    { stdin: values.github },
  );
  cofferOk(["set", "SESSION_SIGNING_KEY", "--generate", "--length", "64", "--env", "production", "--description", "Signs session cookies"]);
  cofferOk(["set", "SESSION_SIGNING_KEY", "--generate", "--length", "64", "--env", "staging"]);
  // No reload: the app polls the vault's change counter.
  await waitShown(rowSel("SESSION_SIGNING_KEY"), 10_000);
  await waitShown(rowSel("DATABASE_URL"));
  await waitForText(`[role="row"][aria-label="DATABASE_URL"]`, /same as production/);
  await waitForText(`[role="row"][aria-label="GITHUB_DEPLOY_TOKEN"]`, /expiring soon/);
});

step("update the value in production", async () => {
  await rowAction(SECRET, "Update value");
  await waitShown(DIALOG);
  await $('[role="dialog"] select[aria-label="Environment"]').selectByAttribute("value", "production");
  await waitForText('[role="dialog"]', /Now at version 1/);
  await fill("New value", values.rotated);
  await submitDialog();
  await waitGone('[role="dialog"]');
  await waitExists(`[role="row"][aria-label="${SECRET}"] [aria-label^="production: Version 2"]`);
  await shoot("secrets");
});

step("a change made with the CLI meanwhile is a conflict, not a lost update", async () => {
  await rowAction(SECRET, "Update value");
  await waitShown(DIALOG);
  await $('[role="dialog"] select[aria-label="Environment"]').selectByAttribute("value", "production");
  await waitForText('[role="dialog"]', /Now at version 2/);
  await fill("New value", values.typedDuringConflict);
  // Someone rotates it from the command line while the dialog is open.
  cofferOk(["set", SECRET, "--value-stdin", "--env", "production"], { stdin: values.fromCli });
  await waitExists(`[role="row"][aria-label="${SECRET}"] [aria-label^="production: Version 3"]`, 10_000);
  await submitDialog();
  await waitForText('[role="dialog"]', /Someone changed this secret since you opened it/);
  await look("conflict");
  assert.equal(await byLabel("New value").getValue(), "", "the typed value is cleared after submit");
  await click($in('[role="dialog"]', "button=Cancel"));
  await waitGone('[role="dialog"]');
  const show = JSON.parse(cofferOk(["show", SECRET, "--json"]).stdout);
  const prod = show.environments.find((e) => e.environment === "production");
  assert.equal(prod.version, 3, "the CLI's version stands; the dialog's value was not written");
});

step("roll back production in History", async () => {
  // Allowed hosts set by a writer on the command line show in History.
  cofferOk(["set", SECRET, "--allow-host", "api.stripe.com", "--allow-host", "*.stripe.example"]);
  await click(`[role="row"][aria-label="${SECRET}"] button.secret-name`);
  await waitShown(`h1=${SECRET}`);
  await waitForText('[aria-label="Allowed hosts"]', /api\.stripe\.com/);
  await waitForText('[aria-label="Allowed hosts"]', /\*\.stripe\.example/);
  const history = '[aria-label="History in production"]';
  await waitForText(history, /v3/);
  await click(`button[aria-label="Roll back production to version 1"]`);
  await waitShown(DIALOG);
  await look("rollback-confirm");
  await waitForText('[role="dialog"]', /writes version 4/);
  await click($in('[role="dialog"]', "button=Roll back"));
  await waitGone('[role="dialog"]');
  await waitForText(history, /rollback to v1/);
  // v4 holds v1's value: the same value label, without anyone seeing the value.
  const cells = await browser.execute(
    (sel) =>
      Object.fromEntries(
        Array.from(document.querySelectorAll(`${sel} tbody tr`)).map((tr) => {
          const [version, label] = tr.querySelectorAll("td");
          return [version.textContent.trim(), label.textContent.trim()];
        }),
      ),
    history,
  );
  assert.equal(cells.v4, cells.v1, `v4 and v1 share a value label: ${JSON.stringify(cells)}`);
  assert.notEqual(cells.v4, cells.v3);
  await $(`h1=${SECRET}`).scrollIntoView();
  await shoot("history");
});

step("reveal as owner: the value shows, then masks itself", async () => {
  await click('button[aria-label="Back to secrets"]');
  await waitShown(rowSel(SECRET));
  const items = await rowAction(SECRET, "Reveal");
  assert.ok(items.includes("Reveal"));
  await waitShown(DIALOG);
  await $('[role="dialog"] select[aria-label="Environment"]').selectByAttribute("value", "production");
  await fill("Reason", "e2e: check the rolled-back value");
  await submitDialog();
  await waitShown('[aria-label="Revealed value"]');
  assert.equal(await textOf('[aria-label="Revealed value"]'), values.production, "production holds v1's value again after the rollback");
  const html = await assertNoValuesInPage([values.production]);
  assert.ok(html.includes(values.production), "the revealed value is on screen");
  await shoot("reveal");

  // Copy: the backend puts it on the system clipboard, marked for clipboard managers
  // (KDE's Klipper, GPaste, CopyQ) to keep out of their history.
  await click('button[aria-label="Copy value"]');
  let onClipboard = null;
  for (const deadline = Date.now() + 5_000; Date.now() < deadline && onClipboard !== values.production; ) {
    onClipboard = clipboard("UTF8_STRING");
    if (onClipboard !== values.production) await browser.pause(100);
  }
  assert.equal(onClipboard, values.production, "Copy put the value on the clipboard");
  const offered = (clipboard("TARGETS") ?? "").split("\n");
  assert.ok(offered.includes("x-kde-passwordManagerHint"), `offered as a secret: ${offered.join(" ")}`);
  assert.equal(clipboard("x-kde-passwordManagerHint"), "secret");
  await waitExists('[aria-label="Value hidden"]', 14_000);
  const after = await browser.getPageSource();
  assert.ok(!after.includes(values.production), "the value left the page when it masked");
  await click($in('[role="dialog"]', "button=Close"));
  await waitGone('[role="dialog"]');
});

step("lock clears the copied value from the clipboard before its 30 s are up", async () => {
  assert.equal(clipboard("UTF8_STRING"), values.production, "still there, under 30 s after the copy");
  await lock();
  const left = clipboard("UTF8_STRING");
  assert.ok(left === null || !left.includes(values.production), "the value left the clipboard at lock");
  await unlockAs("alice", ALICE_PASS);
  await waitShown(rowSel(SECRET));
});

step("test the secret against a local server: it arrives, the answer is masked", async () => {
  let received = "";
  const server = createServer((req, res) => {
    received = req.headers.authorization ?? "";
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(`you sent ${received}`);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address();
    const items = await rowAction(SECRET, "Test");
    assert.ok(items.includes("Test"), `owner items: ${items}`);
    await waitShown(DIALOG);
    await $('[role="dialog"] select[aria-label="Environment"]').selectByAttribute("value", "production");
    await fill("URL", `http://127.0.0.1:${port}/v1/me`);
    await submitDialog();
    await waitForText('[aria-label="Response body"]', /you sent Bearer \*{8}/);
    assert.equal(received, `Bearer ${values.production}`, "the header carried the value");
    await shoot("test-request");
    await click($in('[role="dialog"]', "button=Close"));
    await waitGone('[role="dialog"]');
  } finally {
    server.close();
  }
  const use = cofferOk(["audit", "--json", "--action", "secret.use"]).stdout;
  assert.ok(JSON.parse(use).some((e) => e.detail?.via === "test"), "the test is audited as a use");
});

step("alice adds bob, an admin, from the command line; Members lists him", async () => {
  cofferOk(["member", "add", "bob", "--role", "admin"], { env: { COFFER_NEW_PASSPHRASE: BOB_GIVEN } });
  await click($in('nav[aria-label="Main"]', "button*=Members"));
  await waitShown("#members-title");
  await waitExists('select[aria-label="Role of bob"]', 10_000);
  await shoot("members");
  await click($in(".page-header", "button=Add member"));
  await waitShown(DIALOG);
  await fill("Member name", "carol");
  await fill("Initial passphrase", "quiet harbor lantern mosaic");
  await look("add-member");
  await click($in(DIALOG, "button=Cancel"));
  await waitGone(DIALOG);
});

step("bob unlocks with the passphrase alice gave him and must set his own", async () => {
  await lock();
  await look("unlock");
  await fill("Member name", "bob");
  await fill("Passphrase", BOB_GIVEN);
  await click("button=Unlock");
  await waitForText(`${DIALOG} h2`, /^Set your own passphrase$/, 15_000);
  // Nothing closes it but setting one or locking.
  assert.equal(await $(`${DIALOG} button[aria-label="Close dialog"]`).isExisting(), false, "no close button");
  await browser.keys("Escape");
  await browser.pause(200);
  assert.ok(await $(DIALOG).isExisting(), "Escape does not dismiss it");
  await fill("Current passphrase", BOB_GIVEN);
  await fill("New passphrase", BOB_PASS);
  await fill("Repeat new passphrase", BOB_PASS);
  await waitForText('[aria-label="Passphrase strength"]', /Strong|Very strong/);
  await shoot("set-own-passphrase");
  await click($in(DIALOG, "button=Set passphrase"));
  await waitGone(DIALOG, 15_000);
  await waitForText('[aria-label="Signed in member"]', /bob/);
  // The given passphrase opens nothing any more, from the command line either.
  const old = coffer(["ls"], { member: "bob", passphrase: BOB_GIVEN });
  assert.equal(old.status, 6, `the given passphrase is refused (auth, exit 6): ${old.stderr}`);
});

step("bob's own passphrase opens the vault after locking, the given one does not", async () => {
  await lock();
  await fill("Member name", "bob");
  await fill("Passphrase", BOB_GIVEN);
  await click("button=Unlock");
  await waitShown('.auth-card [role="alert"]', 15_000);
  await unlockAs("bob", BOB_PASS);
  await browser.pause(300);
  assert.equal(await $(DIALOG).isExisting(), false, "not asked again");
});

step("bob, an admin, is offered no Reveal and the backend refuses it", async () => {
  await waitForText('[aria-label="Signed in member"]', /admin/);
  const items = await rowAction(SECRET, null);
  assert.ok(items.includes("Update value") && items.includes("Delete"), `admin items: ${items}`);
  assert.ok(!items.includes("Reveal"), `no Reveal for an admin: ${items}`);
  const nav = await browser.execute(() =>
    Array.from(document.querySelectorAll('nav[aria-label="Main"] button')).map((b) => b.textContent.trim()),
  );
  assert.ok(!nav.some((t) => t.includes("Audit")), `no Audit screen for an admin: ${nav}`);

  // The UI hides it; the backend refuses it anyway (and audits the refusal).
  const r = coffer(["reveal", SECRET, "--env", "production"], { member: "bob", passphrase: BOB_PASS });
  assert.equal(r.status, 4, `bob's reveal is denied (exit 4): ${r.stderr}`);
  assert.ok(!r.stdout.includes(values.production));
  await lock();
  await unlockAs("alice", ALICE_PASS);
});

step("the audit screen shows each action", async () => {
  await click($in('nav[aria-label="Main"]', "button*=Audit"));
  await waitShown("#audit-title");
  await waitForText('[aria-label="Chain status"]', /Chain intact · \d+ events/);

  const expect = async (action, predicate, what) => {
    const labels = await filterAudit(action);
    assert.ok(labels.some(predicate), `${what}; saw ${JSON.stringify(labels)}`);
    return labels;
  };
  await expect("secret.create", (l) => l === `secret.create by alice on ${SECRET}: ok`, "alice created it");
  await expect("secret.update", (l) => l === `secret.update by alice on ${SECRET}: ok`, "alice updated it");
  await expect("secret.rollback", (l) => l === `secret.rollback by alice on ${SECRET}: ok`, "alice rolled it back");
  const reveals = await expect("secret.reveal", (l) => l === `secret.reveal by alice on ${SECRET}: ok`, "alice revealed it");
  assert.ok(reveals.includes(`secret.reveal by bob on ${SECRET}: denied`), "bob's attempt is recorded as denied");
  assert.ok(!reveals.includes(`secret.reveal by bob on ${SECRET}: ok`), "nothing was revealed to bob");
  await waitForText('[aria-label="Audit events"]', /reason: “e2e: check the rolled-back value”/);
  await expect("member.add", (l) => l.startsWith("member.add by alice"), "alice added bob");

  // Three updates of the secret: the add's second environment, the UI's rotation and
  // the CLI's; the refused conflicting write left no event.
  const updates = (await filterAudit("secret.update")).filter((l) => l.endsWith(`on ${SECRET}: ok`));
  assert.equal(updates.length, 3, `updates: ${JSON.stringify(updates)}`);

  // Exports are built from the same events: every action, no value.
  await $('select[aria-label="Action"]').selectByAttribute("value", "");
  await until(async () => (await auditRows()).some((l) => l.startsWith("secret.create ")), "the unfiltered trail");
  for (const kind of ["CSV", "JSON"]) {
    await click($in(".page-actions", `button=Export ${kind}`));
    await waitShown('[aria-label="Export preview"]');
    const text = await byLabel("Export preview").getValue();
    if (kind === "CSV") assert.match(text, /^id,time,actor,action,outcome,workspace,project,environment,secret,detail\r?\n/);
    else assert.ok(Array.isArray(JSON.parse(text)));
    for (const action of ["secret.create", "secret.update", "secret.rollback", "secret.reveal", "member.add"]) {
      assert.ok(text.includes(action), `the ${kind} export lists ${action}`);
    }
    for (const [label, value] of Object.entries(values)) {
      assert.ok(!text.includes(value), `the ${kind} export holds no value (${label})`);
    }
    await assertNoValuesInPage();
    await look(`export-${kind.toLowerCase()}`);
    // Save file: the backend reads the same events and writes them itself.
    await browser.execute(() => document.querySelectorAll(".toast-close").forEach((b) => b.click()));
    await click($in(DIALOG, "button=Save file"));
    let saved;
    await until(async () => {
      const said = await browser.execute(() =>
        Array.from(document.querySelectorAll('[role="status"] *')).map((t) => t.textContent ?? ""),
      );
      saved = said
        .map((t) => /Saved \d+ events? to (\S+)/.exec(t)?.[1])
        .find((path) => path?.endsWith(`.${kind.toLowerCase()}`));
      return saved;
    }, `the ${kind} file is saved`);
    const file = readFileSync(saved, "utf8");
    // (A textarea shows CRLF as LF.)
    if (kind === "CSV") assert.equal(file.split("\r\n")[0], text.split(/\r?\n/)[0], "the same columns");
    else assert.ok(Array.isArray(JSON.parse(file)));
    for (const action of ["secret.create", "secret.reveal", "member.add"]) assert.ok(file.includes(action), `${saved} lists ${action}`);
    for (const value of Object.values(values)) assert.ok(!file.includes(value), `${saved} holds no value`);
    await click($in(DIALOG, "button=Close"));
    await waitGone(DIALOG);
  }
  const exports = await filterAudit("audit.export");
  assert.ok(exports.filter((l) => l.startsWith("audit.export by alice")).length >= 2, `both saves are audited: ${exports}`);
});

/** Fails when a file the app wrote holds any value this test put in the vault. */
function assertNoValuesInFile(path) {
  const text = readFileSync(path, "utf8");
  for (const [label, value] of Object.entries(values)) {
    assert.ok(!text.includes(value), `${path} holds the value "${label}"`);
  }
}

step("sign a checkpoint and export a trail that the CLI verifies offline", async () => {
  const facts = '[aria-label="Chain state"]';
  await waitForText(facts, /This device last saw event \d+/);
  await waitForText(facts, /No checkpoint yet/);
  await click($in(".chain-actions", "button=Sign checkpoint"));
  await waitForText(facts, /Checkpoint #\d+ by alice, .+, covering events up to \d+/);
  await waitForText('[aria-label="Chain status"]', /Chain intact/);
  const signed = JSON.parse(cofferOk(["audit", "--json", "--action", "audit.checkpoint"]).stdout);
  assert.equal(signed.length, 1, `one checkpoint: ${JSON.stringify(signed)}`);
  assert.equal(signed[0].actor, "alice");
  assert.equal(Number((await textOf(facts)).match(/Checkpoint #(\d+)/)[1]), signed[0].id, "the screen names the CLI's checkpoint");
  await shoot("audit");

  // The root key on screen is the one the CLI reports, for the vault and for the file.
  const root = (await textOf('[aria-label="Root key fingerprint"]')).trim();
  assert.match(root, /^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
  assert.ok(cofferOk(["audit", "verify"]).stdout.includes(`root key: ${root}`), "the CLI reports the same root key");

  await click($in(".chain-actions", "button=Export verifiable trail"));
  await waitForText(`${DIALOG} h2`, /^Verifiable trail exported$/);
  const path = (await textOf('[aria-label="Exported file"]')).trim();
  assert.match(path, /\/coffer-audit-\d{4}-\d{2}-\d{2}\.jsonl$/);
  assert.equal((await textOf('[aria-label="Verify command"]')).trim(), `coffer audit verify --file ${path}`);
  await look("audit-exported");
  const check = cofferOk(["audit", "verify", "--file", path]);
  assert.match(check.stdout, /audit export intact/);
  assert.ok(check.stdout.includes(`root key: ${root}`), `the file chains to the root key shown: ${check.stdout}`);
  assertNoValuesInFile(path);
  await click($in(DIALOG, "button=Done"));
  await waitGone(DIALOG);
  await filterAudit("audit.export");
  await $('select[aria-label="Action"]').selectByAttribute("value", "");
});

step("delete after typing the name, then restore", async () => {
  await openSecrets();
  await rowAction(SECRET, "Delete");
  await waitShown(DIALOG);
  await waitForText('[role="dialog"]', /recovery window of 7 days/);
  await look("delete");
  const confirm = '[role="dialog"] button.btn-danger';
  assert.equal(await $(confirm).isEnabled(), false, "disabled until the name is typed");
  await fill(`Type ${SECRET} to confirm`, SECRET);
  await until(() => $(confirm).isEnabled(), "Delete secret to enable");
  await click(confirm);
  await waitGone('[role="dialog"]');
  await waitGone(`[role="row"][aria-label="${SECRET}"]`);

  await click('[aria-label="Show deleted"]');
  await click(`button[aria-label="Restore ${SECRET}"]`);
  await waitGone(`button[aria-label="Restore ${SECRET}"]`);
  await click('[aria-label="Show deleted"]');
  await waitShown(rowSel(SECRET));
  await waitExists(`button[aria-label="Actions for ${SECRET}"]`);

  await click($in('nav[aria-label="Main"]', "button*=Audit"));
  await waitShown("#audit-title");
  await filterAudit("secret.delete");
  await filterAudit("secret.restore");
});

step("settings validate inline and save", async () => {
  await click($in('nav[aria-label="Main"]', "button*=Settings"));
  await waitShown("#settings-title");
  await waitForText(".card", /Rollback window/);
  await until(async () => (await byLabel("Auto-lock after").getValue()) !== "", "the settings to load", 5000);
  await shoot("settings");
  // The same dialog as after a first unlock, here one that Cancel closes.
  await click($in('section[aria-labelledby="passphrase-settings"]', "button=Change passphrase"));
  await waitForText(`${DIALOG} h2`, /^Change passphrase$/);
  await fill("Current passphrase", ALICE_PASS);
  await fill("New passphrase", "short");
  await click($in(DIALOG, "button=Change passphrase"));
  await waitForText(`${DIALOG} .field-error`, /Choose a stronger passphrase/);
  await shoot("change-passphrase");
  await click($in(DIALOG, "button=Cancel"));
  await waitGone(DIALOG);
  await fill("Auto-lock after", "5s");
  await click('button[aria-label="Save auto-lock after"]');
  await waitForText(".setting-row .field-error", /auto-lock must be between 1m and 7d/i);
  await look("settings-error");
  await fill("Rollback window", "14d");
  await click('button[aria-label="Save rollback window"]');
  await until(
    () => JSON.parse(cofferOk(["settings", "get", "rollback-window", "--json"]).stdout)[0]?.value === "14d",
    "rollback-window to be saved as 14d",
    5000,
  );
});

step("an owner archives the trail from Settings; the Audit screen says what the vault keeps", async () => {
  const card = 'section[aria-labelledby="archive-settings"]';
  await $(card).scrollIntoView();
  assert.equal(await byLabel("Archive events before").getValue(), "365d");
  // Nothing in this vault is a year old: the backend says so, in the dialog.
  await click($in(card, "button=Archive…"));
  await waitForText(`${DIALOG} h2`, /^Archive audit events\?$/);
  await click($in(DIALOG, "button=Archive events"));
  await waitForText(`${DIALOG} [role="alert"]`, /No events before 365d are left to archive/);
  await click($in(DIALOG, "button=Cancel"));
  await waitGone(DIALOG);

  // Before tomorrow (midnight UTC): every event so far.
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  await fill("Archive events before", tomorrow);
  await click($in(card, "button=Archive…"));
  await waitForText(DIALOG, /signed archive mark/);
  await look("archive-confirm");
  await click($in(DIALOG, "button=Archive events"));
  await waitGone(DIALOG, 15_000);
  const result = `${card} [role="status"]`;
  await waitForText(result, /Archived \d+ events \(1 to \d+\)/);
  const path = (await textOf(`${result} code.archive-path`)).trim();
  assert.ok(path.endsWith(`/coffer-audit-archive-until-${tomorrow}.jsonl`), path);
  await look("settings-archived");
  assert.match(cofferOk(["audit", "verify", "--file", path]).stdout, /audit archive intact/);
  assertNoValuesInFile(path);

  await click($in('nav[aria-label="Main"]', "button*=Audit"));
  await waitShown("#audit-title");
  await waitForText('[aria-label="Chain status"]', /Chain intact/);
  await waitForText(
    '[aria-label="Chain state"]',
    new RegExp(`Events 1–\\d+ archived to coffer-audit-archive-until-${tomorrow}\\.jsonl by alice on .+; the vault keeps events? \\d+`),
  );
  await look("audit-archived");
});

step("updates: offline is one line, the endpoint must be https", async () => {
  // Through another screen, so the settings form comes back fresh.
  await openSecrets();
  await click($in('nav[aria-label="Main"]', "button*=Settings"));
  await waitShown("#settings-title");
  const status = '[role="status"][aria-label="Update status"]';
  await $("#update-settings").scrollIntoView();
  // An offline tool does not call out on its own: checking at start is off until an
  // owner turns it on.
  await waitForText(status, /checking at start is off/, 20_000);
  assert.equal(await byLabel("Check for updates at start").isSelected(), false, "off by default");
  // Asked, it tries the shipped endpoint, which no network resolves.
  await click("button=Check for updates");
  await waitForText(status, /^Could not check for updates: example\.invalid could not be reached\.$/, 20_000);
  await shoot("settings-updates");

  await fill("Update endpoint", "http://127.0.0.1:1/latest.json");
  await click('button[aria-label="Save update endpoint"]');
  await waitForText("#update-endpoint-error", /must use https/);

  // Nothing listens on port 1: the check says so in one line and offers nothing.
  await fill("Update endpoint", "https://127.0.0.1:1/latest.json");
  await click('button[aria-label="Save update endpoint"]');
  await waitGone("#update-endpoint-error");
  await waitShown('button[aria-label="Use the default update endpoint"]');
  await click("button=Check for updates");
  await waitForText(status, /^Could not check for updates: 127\.0\.0\.1:1 could not be reached\.$/);
  assert.equal(await $("button=Download and install").isExisting(), false, "nothing is offered");
  await look("settings-updates-offline");

  // An owner may turn checking at start on, and off again.
  await click(byLabel("Check for updates at start"));
  await until(async () => await byLabel("Check for updates at start").isSelected(), "check at start to turn on");
  await click(byLabel("Check for updates at start"));
  await until(async () => !(await byLabel("Check for updates at start").isSelected()), "check at start to turn off");
  await click('button[aria-label="Use the default update endpoint"]');
  await waitGone('button[aria-label="Use the default update endpoint"]');
  assert.match(await byLabel("Update endpoint").getValue(), /^https:\/\/example\.invalid\//);
});

const SNAPSHOT_ROWS = 'table[aria-label="Snapshots"] tbody tr';

/** The snapshots listed, as [title (the full path), text] pairs read in one go. */
async function snapshotRows() {
  return browser.execute(
    (sel) => Array.from(document.querySelectorAll(sel)).map((tr) => [tr.getAttribute("title"), tr.textContent]),
    SNAPSHOT_ROWS,
  );
}

async function openSettingsTab(name) {
  await openSecrets();
  await click($in('nav[aria-label="Main"]', "button*=Settings"));
  await waitShown("#settings-title");
  await click($in('[role="tablist"][aria-label="Settings sections"]', `button=${name}`));
}

step("Settings → Backups: back up now lists the new snapshot, as the CLI does; a restore locks and says so", async () => {
  await openSettingsTab("Backups");
  const card = 'section[aria-labelledby="backup-settings"]';
  await waitShown(card);
  await waitExists('[aria-label="Snapshot folder"]');
  const folder = await $('[aria-label="Snapshot folder"]').getAttribute("title");
  assert.equal(folder, `${VAULT}.snapshots`);
  const before = await snapshotRows();

  await click($in(card, "button=Back up now"));
  await until(async () => (await snapshotRows()).length === before.length + 1, "the new snapshot to be listed");
  const [newest] = await snapshotRows();
  assert.match(newest[1], /manual/);
  assert.match(newest[1], /just now/);
  await waitForText('[aria-label="Newest snapshot"]', /manual/);
  // The CLI reads the same folder: its newest snapshot is the one just listed.
  const listed = JSON.parse(cofferOk(["snapshots", "--json"]).stdout);
  assert.equal(listed.snapshots[0].path, newest[0]);
  assert.equal(listed.snapshots[0].kind, "manual");
  await shoot("settings-backups");

  // Restore it: the vault comes back as it was a moment ago, the app locks and says
  // what it did, and the trail records the restore.
  await click(`${SNAPSHOT_ROWS}:first-child button`);
  await waitForText(`${DIALOG} h2`, /^Restore this snapshot\?$/);
  await waitForText(DIALOG, /The vault as it is now is kept as a snapshot/);
  await fill("Passphrase when the snapshot was taken", ALICE_PASS);
  await look("restore-confirm");
  await click($in(DIALOG, "button=Restore vault"));
  await waitShown("h1=Unlock Coffer", 30_000);
  await waitForText(".auth-card", /The vault was restored from the manual snapshot of .+; its directory and audit trail verify\./);
  await waitForText(".auth-card", /The vault as it was is kept beside it as a before-restore snapshot/);
  // …which the CLI lists too.
  assert.equal(JSON.parse(cofferOk(["snapshots", "--json"]).stdout).snapshots[0].kind, "before-restore");
  await look("restored");
  await unlockAs("alice", ALICE_PASS);
  const restores = JSON.parse(cofferOk(["audit", "--action", "vault.restore", "--json"]).stdout);
  assert.equal(restores.length, 1, "the restore is in the trail");
  await waitShown(rowSel(SECRET));
});

step("Settings → Health shows the doctor's findings, one line each", async () => {
  await openSettingsTab("Health");
  const findings = 'ul[aria-label="Findings"]';
  await waitExists(`${findings} li`, 15_000);
  const lines = await browser.execute(
    (sel) => Array.from(document.querySelectorAll(`${sel} li`)).map((li) => li.textContent),
    findings,
  );
  for (const check of ["Permissions", "Integrity", "Format", "Snapshots", "Signed directory", "Audit chain", "This device"]) {
    assert.ok(
      lines.some((l) => l.includes(check)),
      `a ${check} finding in ${JSON.stringify(lines)}`,
    );
  }
  assert.ok(lines.some((l) => /^okIntegrity/.test(l)), `integrity passes: ${JSON.stringify(lines)}`);
  assert.ok(lines.some((l) => /^okAudit chain/.test(l)), `the chain verifies: ${JSON.stringify(lines)}`);
  await waitForText('[aria-label="Health summary"]', /action/);
  await click("button=Check again");
  await waitExists(`${findings} li`);
  await shoot("settings-health");
});

step("a forgotten passphrase is set anew with the recovery key from the unlock screen", async () => {
  await openSettingsTab("General");
  await waitForText('section[aria-labelledby="passphrase-settings"]', /Recovery key.*You have one/s);
  await look("settings-recovery-key");
  // Replace it: the passphrase first, then the new words once, three of them asked back.
  await click("button=Replace recovery key…");
  await fill("Your passphrase", ALICE_PASS);
  await click($in(DIALOG, "button=Confirm and continue"));
  await waitForText(`${DIALOG} h2`, /^Your new recovery key$/);
  const old = recoveryWords;
  recoveryWords = await browser.execute(() =>
    Array.from(document.querySelectorAll('[aria-label="Recovery key words"] .recovery-word')).map((w) => w.textContent),
  );
  assert.equal(recoveryWords.length, 24);
  assert.notDeepEqual(recoveryWords, old, "new words");
  await look("replace-recovery-key");
  await click($in(DIALOG, "button=I have written them down"));
  await waitShown('form[aria-label="Check your recovery key"]');
  const asked = await browser.execute(() =>
    Array.from(document.querySelectorAll('form[aria-label="Check your recovery key"] input')).map((i) =>
      Number(/^Word (\d+)$/.exec(i.getAttribute("aria-label"))[1]),
    ),
  );
  for (const n of asked) await fill(`Word ${n}`, recoveryWords[n - 1]);
  await click($in(DIALOG, "button=Check words"));
  await waitGone(DIALOG);
  await lock();
  // The replaced words open nothing.
  await click("button=Forgot your passphrase?");
  await waitForText(`${DIALOG} h2`, /^Recover with your recovery key$/);
  await retryStale(async () => (await $in(DIALOG, '[aria-label="Member name"]')).setValue("alice"));
  await fill("Recovery key", old.join(" "));
  await fill("New passphrase", ALICE_PASS);
  await fill("Repeat new passphrase", ALICE_PASS);
  await click($in(DIALOG, "button=Recover and unlock"));
  await waitForText(DIALOG, /Wrong member name or recovery key/, 15_000);
  await click($in(DIALOG, "button=Cancel"));
  await waitGone(DIALOG);
  await click("button=Forgot your passphrase?");
  await waitForText(`${DIALOG} h2`, /^Recover with your recovery key$/);
  const memberField = () => $in(DIALOG, '[aria-label="Member name"]');
  await retryStale(async () => (await memberField()).setValue("alice"));
  // A word short: said, and nothing is tried.
  await fill("Recovery key", recoveryWords.slice(0, 23).join(" "));
  await fill("New passphrase", ALICE_PASS);
  await fill("Repeat new passphrase", ALICE_PASS);
  await click($in(DIALOG, "button=Recover and unlock"));
  await waitForText(DIALOG, /A recovery key is 24 words; this has 23\./);
  // Typed back as copied from paper, numbers and all (WebDriver drops typed new lines;
  // the component test types them).
  await fill("Recovery key", recoveryWords.map((w, i) => `${i + 1}. ${w}`).join(" "));
  await fill("New passphrase", ALICE_PASS);
  await fill("Repeat new passphrase", ALICE_PASS);
  await look("recover");
  await click($in(DIALOG, "button=Recover and unlock"));
  await waitShown("#secrets-title", 15_000);
  await waitForText('[aria-label="Signed in member"]', /alice/);
  const recovered = JSON.parse(cofferOk(["audit", "--action", "member.recover", "--json"]).stdout);
  assert.equal(recovered.length, 1, "the recovery is in the trail");
  assert.ok(!JSON.stringify(recovered).includes(recoveryWords.slice(0, 3).join(" ")), "no words in the trail");
});

step("a protected environment is marked, and a change to it goes through the passphrase check", async () => {
  cofferOk(["env", "create", "eu-production", "--protected"]);
  await openSecrets();
  // The new column arrives with the next poll, marked protected.
  await waitExists('[role="columnheader"] [title^="eu-production is protected"]');
  await rowAction(SECRET, "Update value");
  await waitShown(DIALOG);
  await $('[role="dialog"] select[aria-label="Environment"]').selectByAttribute("value", "eu-production");
  await fill("New value", values.protectedEnv);
  await submitDialog();
  // The backend counts an unlock as a fresh confirmation for five minutes, so the
  // prompt shows only when that has passed; answer it if it comes (the prompt itself
  // is covered by the component tests).
  const asked = await until(() => byLabel("Your passphrase").isDisplayed(), "the passphrase prompt", 1500).then(
    () => true,
    () => false,
  );
  if (asked) {
    await fill("Your passphrase", ALICE_PASS);
    await click($in(DIALOG, "button=Confirm and continue"));
  }
  await waitGone(DIALOG);
  await waitExists(`[role="row"][aria-label="${SECRET}"] [aria-label^="eu-production: Version 1"]`);
});

step("removing bob marks what he could use as exposed, in the list and in History", async () => {
  cofferOk(["member", "remove", "bob"]);
  await openSecrets();
  const badge = `[role="row"][aria-label="${SECRET}"] .badge[title^="bob could use the value"]`;
  await waitExists(badge, 10_000);
  assert.equal((await textOf(badge)).trim(), "exposed");
  await click(`[role="row"][aria-label="${SECRET}"] button.secret-name`);
  await waitShown(`h1=${SECRET}`);
  await waitForText('[aria-label="History in production"]', /Exposed to bob/);
  await $('[aria-label="History in production"]').scrollIntoView();
  await look("history-exposed");
  await click('button[aria-label="Back to secrets"]');
  await waitShown(rowSel(SECRET));
});

step("events deleted from the trail behind the app's back are flagged at the next unlock", async () => {
  const banner = 'section[aria-label="Audit trail warning"]';
  // A change made in the app moves this machine's anchor to the trail's new head.
  await rowAction(SECRET, "Update value");
  await waitShown(DIALOG);
  await $('[role="dialog"] select[aria-label="Environment"]').selectByAttribute("value", "staging");
  await fill("New value", values.beforeCut);
  await submitDialog();
  await waitGone(DIALOG);
  assert.ok(readdirSync(join(STATE, "coffer", "anchors")).length > 0, "the app keeps its anchors in the test's state dir");
  assert.equal(await $(banner).isExisting(), false, "no warning while the trail is whole");
  await lock();

  // Locked, the app holds no connection: cut the trail's tail as anyone with the file could.
  const cut = spawnSync("sqlite3", [VAULT, "DELETE FROM audit_events WHERE id > (SELECT max(id) - 2 FROM audit_events)"], {
    encoding: "utf8",
  });
  assert.equal(cut.status, 0, `sqlite3 failed: ${cut.stderr}`);

  // The warning does not stand in the way: the vault opens as usual, under it.
  await unlockAs("alice", ALICE_PASS);
  await waitShown(banner);
  await waitForText(banner, /The audit trail no longer holds event \d+, which this machine saw/);
  await waitForText(banner, /Open Audit → Verify chain/);
  const text = await textOf(banner);
  assert.ok(!/warning:|coffer audit/.test(text), `no CLI wording in the app: ${text}`);
  await look("trail-warning");
  // The CLI on this machine reads the same anchor.
  assert.match(cofferOk(["ls"]).stderr, /no longer holds event \d+/);

  // The banner leads to the chain's verdict and stays while the member works.
  await click($in(banner, "button=Open Audit"));
  await waitShown("#audit-title");
  await waitForText('[aria-label="Chain status"]', /Chain broken at event \d+/);
  await look("trail-warning-audit");
  await openSecrets();
  assert.ok(await $(banner).isDisplayed(), "the warning stays on every screen");
});

/** A CLI run in another home (another machine of the team): its own vault and state. */
function cofferAt(home, args, { member, passphrase, stdin, env = {} } = {}) {
  const r = spawnSync(CLI, args, {
    input: stdin,
    encoding: "utf8",
    env: {
      ...process.env,
      HOME: home,
      XDG_STATE_HOME: join(home, "state"),
      COFFER_VAULT: join(home, "vault.db"),
      COFFER_MEMBER: member,
      COFFER_PASSPHRASE: passphrase,
      ...env,
    },
  });
  assert.equal(r.status, 0, `coffer ${args.join(" ")} (${member}) failed: ${r.stderr}`);
  return r;
}

step("the vault goes onto a team server: online, a member joins from their machine, another's change shows live", async () => {
  // An empty database on the suite's throw-away PostgreSQL (tests/pg/with-postgres.sh).
  const admin = required("COFFER_TEST_PG");
  const db = `app_e2e_${process.pid}`;
  const made = spawnSync("psql", [admin, "-qAtc", `CREATE DATABASE ${db}`], { encoding: "utf8" });
  assert.equal(made.status, 0, `psql: ${made.stderr}`);
  cofferOk(["team", "create", admin.replace("/postgres?", `/${db}?`)]);

  // The app's watcher notices by itself and goes online.
  const status = 'button.team-status';
  await waitForText(status, /^Online/, 15_000);
  await click(status);
  await waitShown('section[aria-labelledby="team-settings"]');
  await waitForText('[aria-label="Team status"]', /online/);

  // frank is invited here and joins from his own machine, with his own keys.
  await fill("Member name", "frank");
  await $('select[aria-label="Role"]').selectByAttribute("value", "developer");
  await click("button=Create invitation");
  await waitShown('[aria-label="Invitation code"]');
  const code = await $('textarea[aria-label="Code"]').getValue();
  assert.match(code, /^coffer-invite:/);
  await shoot("settings-team");
  await click($in('[aria-label="Invitation code"]', "button=Done"));
  const frankHome = join(STATE, "..", "frank");
  mkdirSync(frankHome, { recursive: true });
  const frank = { member: "frank", passphrase: "frank keeps his own lamp 3" };
  const started = JSON.parse(cofferAt(frankHome, ["--json", "team", "join", code, "--wait", "0"], frank).stdout);
  const row = '[aria-label="Invitation for frank"]';
  await waitForText(row, /joined: compare the fingerprint/, 15_000);
  // A wrong fingerprint admits nothing.
  await fill("Fingerprint on frank's screen", "0000-0000-0000-0000-0000");
  await click($in(row, "button=Admit"));
  await waitForText(`${row} [role="alert"]`, /not the one of the keys that joined/);
  await fill("Fingerprint on frank's screen", started.fingerprint);
  await look("team-admit");
  await click($in(row, "button=Admit"));
  await waitGone(row, 15_000);
  const joined = JSON.parse(cofferAt(frankHome, ["--json", "team", "join", "--wait", "20s"], frank).stdout);
  assert.equal(joined.name, "frank");
  // Members lists frank; on a team vault it offers invitations, not a first passphrase.
  await click($in('nav[aria-label="Main"]', "button*=Members"));
  await waitShown("#members-title");
  await waitExists('select[aria-label="Role of frank"]', 10_000);
  assert.equal(await $(".page-header").$("button=Add member").isExisting(), false, "no Add member on a team vault");
  await look("members-team");
  await click($in(".page-header", "button=Invite member"));
  await waitShown('section[aria-labelledby="team-invite"]');

  // alice's other machine (a copy of this file) adds a secret: it shows here live.
  const otherHome = join(STATE, "..", "alice-laptop");
  mkdirSync(otherHome, { recursive: true });
  copyFileSync(VAULT, join(otherHome, "vault.db"));
  try {
    copyFileSync(`${VAULT}-wal`, join(otherHome, "vault.db-wal"));
  } catch {
    // no log beside the file: the copy is whole
  }
  const alice = { member: "alice", passphrase: ALICE_PASS };
  cofferAt(otherHome, ["set", "FROM_LAPTOP", "--value-stdin"], { ...alice, stdin: values.fromTeammate });
  await openSecrets();
  const started_at = Date.now();
  cofferAt(otherHome, ["team", "sync"], alice);
  await waitExists(rowSel("FROM_LAPTOP"), 5_000);
  const took = Date.now() - started_at;
  assert.ok(took < 3_000, `another machine's change took ${took} ms to show`);
  await waitForText(status, /^Online/);
  await look("team-live");

  // Settings → Team → Verify server: the server holds what this machine exchanged
  // with it; a record its administrator then deletes is named.
  await click(status);
  await waitShown('section[aria-labelledby="team-settings"]');
  await click("button=Verify server");
  await waitForText(".toasts", /holds what this machine exchanged/, 15_000);
  const dbUrl = admin.replace("/postgres?", `/${db}?`);
  const asAdmin = (sql) => {
    const r = spawnSync("psql", [dbUrl, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], { encoding: "utf8" });
    assert.equal(r.status, 0, `psql: ${r.stderr}`);
  };
  asAdmin(
    `CREATE TABLE public.aside AS SELECT * FROM coffer.records WHERE kind = 'secret'
       AND key = (SELECT min(key) FROM coffer.records WHERE kind = 'secret' AND body IS NOT NULL);
     DELETE FROM coffer.records r USING public.aside a WHERE (r.scope, r.kind, r.key) = (a.scope, a.kind, a.key)`,
  );
  await click("button=Verify server");
  await waitForText('section[aria-labelledby="team-settings"] [role="alert"]', /was deleted on the server/, 15_000);
  await look("team-verify");
  // Put back (as from a backup), the server verifies again.
  asAdmin("INSERT INTO coffer.records SELECT * FROM public.aside; DROP TABLE public.aside");
  await browser.execute(() => document.querySelectorAll(".toast-close").forEach((b) => b.click()));
  await click("button=Verify server");
  await waitForText(".toasts", /holds what this machine exchanged/, 15_000);

  // Audit → Whole team: every member's events read back from the server, each one
  // checked: frank's join (made on his machine, signed with his keys) and the secret
  // added on alice's laptop.
  await click($in('nav[aria-label="Main"]', "button*=Audit"));
  await waitShown("#audit-title");
  await click("button=Whole team");
  await waitForText('[aria-label="Team trail status"]', /Every event checked/, 15_000);
  await waitExists('[role="row"][aria-label^="team.join by frank"]', 10_000);
  await waitExists('[role="row"][aria-label^="secret.create by alice on FROM_LAPTOP"]', 10_000);
  await look("audit-team");
  await click("button=This machine");
  await waitShown('[aria-label="Chain status"]');
});

step("someone invited joins the team vault from the first-run screen and is in once admitted", async () => {
  await lock();
  // A computer with no vault yet: the file is put aside and the window reloaded.
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${VAULT}${suffix}`, { force: true });
  await browser.refresh();
  await waitShown("h1=Create your vault", 15_000);
  const otherHome = join(STATE, "..", "alice-laptop");
  const alice = { member: "alice", passphrase: ALICE_PASS };
  const invited = JSON.parse(cofferAt(otherHome, ["--json", "team", "invite", "gina", "--role", "developer"], alice).stdout);
  await click("button=Invited to a team? Join its vault");
  await waitShown("h1=Join a team vault");
  await fill("Invitation code", invited.code);
  await fill("Choose a passphrase", "gina has a lamp of her own 4");
  await fill("Repeat the passphrase", "gina has a lamp of her own 4");
  await click("button=Ask to join");
  await waitShown('[aria-label="Your fingerprint"]', 20_000);
  const fingerprint = (await textOf('[aria-label="Your fingerprint"] code')).trim();
  assert.match(fingerprint, /^[0-9a-f]{4}(-[0-9a-f]{4}){4}$/);
  await look("join-waiting");
  // The owner, on their machine, admits gina once she has read it out: the screen goes on by itself.
  cofferAt(otherHome, ["team", "admit", "gina", "--fingerprint", fingerprint], alice);
  await waitShown("#secrets-title", 20_000);
  await waitForText('[aria-label="Signed in member"]', /gina/);
  await waitExists(rowSel("FROM_LAPTOP"), 10_000);
});

step("an old vault is upgraded at the owner's unlock, which shows each one-time passphrase once", async () => {
  await lock();
  // Locked, the app holds no connection: swap in a vault an earlier Coffer wrote.
  for (const suffix of ["-wal", "-shm"]) rmSync(`${VAULT}${suffix}`, { force: true });
  copyFileSync(fileURLToPath(new URL("../fixtures/vault-v5.db", import.meta.url)), VAULT);
  await fill("Member name", "alice");
  await fill("Passphrase", "owner passphrase 1");
  await click("button=Unlock");
  await waitForText(`${DIALOG} h2`, /^Vault upgraded$/, 30_000);
  // As [member, passphrase] pairs: an object's key order does not survive WebDriver.
  const rows = await browser.execute(() =>
    Array.from(document.querySelectorAll('[aria-label="One-time passphrases"] tbody tr')).map((tr) => [
      tr.querySelector("th").textContent.trim(),
      tr.querySelector("td").textContent.trim(),
    ]),
  );
  const handed = Object.fromEntries(rows);
  assert.deepEqual(
    rows.map(([member]) => member),
    ["bob", "carol", "dave", "erin"],
    "every member, by name",
  );
  for (const p of Object.values(handed)) assert.match(p, /^([a-z2-9]{4}-){5}[a-z2-9]{4}$/);
  assert.equal(await $(`${DIALOG} button[aria-label="Close dialog"]`).isExisting(), false, "no close button");
  const done = $in(DIALOG, "button=Done");
  assert.equal(await done.isEnabled(), false, "Done waits for the tick");
  await click(`button[aria-label="Copy carol's passphrase"]`);
  await shoot("vault-upgraded");
  await click(byLabel("I have handed these out or noted them"));
  await click($in(DIALOG, "button=Done"));
  await waitGone(DIALOG);
  const html = await browser.getPageSource();
  for (const [member, p] of Object.entries(handed)) assert.ok(!html.includes(p), `${member}'s passphrase left the page`);

  // carol's one-time passphrase opens the vault, and she sets her own.
  await lock();
  await fill("Member name", "carol");
  await fill("Passphrase", handed.carol);
  await click("button=Unlock");
  await waitForText(`${DIALOG} h2`, /^Set your own passphrase$/, 15_000);
  await fill("Current passphrase", handed.carol);
  await fill("New passphrase", "carol keeps seven lanterns");
  await fill("Repeat new passphrase", "carol keeps seven lanterns");
  await click($in(DIALOG, "button=Set passphrase"));
  await waitGone(DIALOG, 15_000);
  await waitForText('[aria-label="Signed in member"]', /carol/);
  await lock();
  await unlockAs("carol", "carol keeps seven lanterns");
});
