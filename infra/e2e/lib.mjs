// Shared by the browser scripts (browser.mjs, staff.mjs): reading the
// input, headless Debian Chromium through playwright-core, steps with
// timings, screenshots, the one JSON summary on stdout, and the example
// site's consultation form.
//
// Every script reads its input from the env variable LEADPIPE_E2E (JSON,
// baseURL required), prints progress on stderr, and ends by printing one
// JSON summary on stdout ({"ok":true,...}); a failed step exits 1 after
// printing the summary with "ok":false and the error, and saving
// failure-<step>.png.
import { createRequire } from "node:module";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
// playwright-core is installed in infra/node_modules by `npm ci --prefix infra`.
const require = createRequire(path.join(here, "..", "package.json"));
const { chromium } = require("playwright-core");

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];
const TIMEOUT_MS = 15000;

export function log(...args) {
  console.error("[e2e]", ...args);
}

export function check(cond, message) {
  if (!cond) {
    throw new Error(message);
  }
}

// readInput parses LEADPIPE_E2E, or exits 2 with how to run script.
export function readInput(script) {
  const input = JSON.parse(process.env.LEADPIPE_E2E || "{}");
  if (!input.baseURL) {
    console.error(`set LEADPIPE_E2E='{"baseURL":"http://127.0.0.1:3000"}' to run ${script}`);
    process.exit(2);
  }
  return input;
}

// createRun holds one script's state: the stack's base URL, the artifacts
// directory (input.artifacts, default infra/e2e/artifacts), the summary
// (starting with fields), and the Chromium profiles to remove at the end.
export function createRun(input, fields = {}) {
  const base = input.baseURL.replace(/\/$/, "");
  const artifacts = path.resolve(input.artifacts || path.join(here, "artifacts"));
  const summary = { ok: false, baseURL: base, leads: {}, screenshots: [], steps: [], ...fields };
  const profiles = [];
  const contexts = [];
  let step = "start";

  // fresh is a new persistent Chromium profile in its own temporary
  // --user-data-dir, removed at the end.
  async function fresh(options = {}) {
    const dir = mkdtempSync(path.join(tmpdir(), "leadpipe-e2e-"));
    profiles.push(dir);
    const context = await chromium.launchPersistentContext(dir, {
      executablePath: input.chromium || "/usr/bin/chromium",
      headless: true,
      args: FLAGS,
      viewport: { width: 1000, height: 900 },
      ...options,
    });
    context.setDefaultTimeout(TIMEOUT_MS);
    contexts.push(context);
    return context;
  }

  // watch fails the run on a script error in the page and on any request
  // that leaves the stack's origin (and the origins in allow). Chromium
  // logs every 4xx/5xx and aborted fetch as a console error; for URLs that
  // quiet matches those are answers under test, for anything else (a
  // missing stylesheet) a fault.
  function watch(page, { allow = [], quiet = /\/(contact|consultations)$/ } = {}) {
    const errors = [];
    const origins = [base, ...allow].map((o) => o.replace(/\/$/, "") + "/");
    page.on("pageerror", (err) => errors.push(`page error: ${err.message}`));
    page.on("console", (msg) => {
      if (msg.type() !== "error") return;
      const url = msg.location().url || "";
      if (/^Failed to load resource/.test(msg.text()) && quiet.test(url)) return;
      errors.push(`console error: ${msg.text()} (${url})`);
    });
    page.on("request", (req) => {
      const url = req.url();
      if (!origins.some((o) => url.startsWith(o)) && !url.startsWith("data:") && url !== "about:blank") {
        errors.push(`request outside the stack: ${url}`);
      }
    });
    return errors;
  }

  async function screenshot(target, name, options = {}) {
    const file = path.join(artifacts, name);
    await target.screenshot({ path: file, ...options });
    summary.screenshots.push(path.relative(process.cwd(), file));
  }

  async function timed(name, fn) {
    step = name;
    const start = Date.now();
    log(`${name}…`);
    await fn();
    summary.steps.push({ name, ms: Date.now() - start });
  }

  async function submitConsultation(page) {
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.method() === "POST" && r.url() === `${base}/consultations`),
      page.locator("#consultation-form").getByRole("button", { name: "Request a consultation" }).click(),
    ]);
    return request;
  }

  // finish runs main, then closes every browser, removes the profiles,
  // prints the summary and exits: 0 when main returned, 1 when it threw.
  async function finish(main) {
    let failed = false;
    try {
      mkdirSync(artifacts, { recursive: true });
      await main();
      summary.ok = true;
    } catch (err) {
      failed = true;
      summary.ok = false;
      summary.error = `${step}: ${err && err.stack ? err.stack : err}`;
      log("FAILED", summary.error);
      for (const ctx of contexts) {
        for (const page of ctx.pages()) {
          await page.screenshot({ path: path.join(artifacts, `failure-${step}.png`), fullPage: true }).catch(() => {});
        }
      }
    } finally {
      for (const ctx of contexts) {
        await ctx.close().catch(() => {});
      }
      for (const dir of profiles) {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    process.stdout.write(JSON.stringify(summary) + "\n");
    process.exit(failed ? 1 : 0);
  }

  return { base, artifacts, summary, fresh, watch, screenshot, timed, submitConsultation, finish };
}

// fillConsultation fills the example site's consultation form with valid
// answers; extra overrides the first name, last name, medications and
// message, and ticks "in crisis".
export async function fillConsultation(page, email, extra = {}) {
  const f = page.locator("#consultation-form");
  await f.getByLabel("First name").fill(extra.firstName ?? "Avery");
  await f.getByLabel("Last name").fill(extra.lastName ?? "Testperson");
  await f.getByRole("textbox", { name: "Email", exact: true }).fill(email);
  await f.getByRole("textbox", { name: "Phone", exact: true }).fill("(410) 555-0134");
  await f.getByLabel("Date of birth").fill("1984-06-15");
  await f.getByLabel("State you live in").selectOption("MD");
  await f.getByLabel("Depression", { exact: true }).check();
  await f.getByLabel("Treatment-resistant depression").check();
  await f.getByLabel("SSRI antidepressants", { exact: false }).check();
  await f.getByLabel("Psychotherapy", { exact: false }).check();
  await f.getByLabel("Current medications").fill(extra.medications ?? "Sertraline 100 mg daily");
  await f.getByLabel("Relevant medical history").fill("Mild hypertension, controlled.");
  await f.getByLabel("Phone call").check();
  await f.getByLabel("Morning").check();
  await f.getByLabel("Evening").check();
  await f.getByLabel("How did you hear about us?").selectOption("referral_provider");
  await f.getByLabel("Referring provider").fill("Dr. Jordan Rivera");
  await f.getByLabel("Message", { exact: true }).fill(extra.message ?? "Three antidepressants have not helped.\nI would like to learn about ketamine therapy.");
  if (extra.inCrisis) {
    await f.getByLabel("I am in crisis right now").check();
  }
  await f.getByLabel("I agree that the clinic may contact me", { exact: false }).check();
  await f.getByLabel("I have read the privacy notice", { exact: false }).check();
}

// thanksShown waits for the consultation form's thank-you message and
// checks it replaced the form, took the focus and is in view.
export async function thanksShown(page) {
  const thanks = page.locator('[data-thanks-for="consultation-form"]');
  await thanks.waitFor({ state: "visible" });
  check(await page.locator("#consultation-form").isHidden(), "the form is still shown after the thank-you");
  const focused = await page.evaluate(() => document.activeElement?.getAttribute("data-thanks-for"));
  check(focused === "consultation-form", "focus did not move to the thank-you message");
  // The person must see it without scrolling: the form above it is gone.
  const inView = await thanks.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.top >= 0 && r.top < window.innerHeight;
  });
  check(inView, "the thank-you message is not in view");
  return thanks;
}
