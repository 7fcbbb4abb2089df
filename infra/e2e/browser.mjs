// Browser test of the example website (examples/website) against a running
// dev stack, in headless Debian Chromium driven by playwright-core.
//
// e2e_test.go starts the stack and runs this script; to run it by hand
// against `make dev`:
//
//   LEADPIPE_E2E='{"baseURL":"http://127.0.0.1:3000"}' node infra/e2e/browser.mjs
//
// Input (env LEADPIPE_E2E, JSON): baseURL (required), artifacts (directory
// for screenshots, default infra/e2e/artifacts), emails (scenario -> unique
// address; defaults are made from the time), chromium (default
// /usr/bin/chromium).
//
// Output: one JSON summary on stdout ({"ok":true,"leads":{...},...});
// progress on stderr; see lib.mjs.
import { check, createRun, fillConsultation, readInput, thanksShown } from "./lib.mjs";

const input = readInput("browser.mjs");
const run = Date.now().toString(36);
const emails = {
  consultation: `e2e-consultation-${run}@example.com`,
  corrected: `e2e-corrected-${run}@example.com`,
  retry: `e2e-retry-${run}@example.com`,
  rekey: `e2e-rekey-${run}@example.com`,
  crisis: `e2e-crisis-${run}@example.com`,
  contact: `e2e-contact-${run}@example.com`,
  plain: `e2e-plain-${run}@example.com`,
  ...(input.emails || {}),
};
const { base, summary, fresh, watch, screenshot, timed, submitConsultation, finish } = createRun(input, { emails, keys: {} });

async function errorText(page, field) {
  return (await page.locator(`#consultation-form [data-error-for="${field}"]`).textContent()).trim();
}

async function main() {
  const context = await fresh();

  // 0. The page itself, on a phone-sized screen: the crisis notice is in
  // view before any scrolling, nothing scrolls sideways, every control has
  // a label and a live error element, the honeypot is out of reach.
  await timed("page", async () => {
    const page = await context.newPage();
    const errors = watch(page);
    await page.setViewportSize({ width: 375, height: 740 });
    await page.goto(`${base}/`);
    const notice = page.locator(".crisis-notice");
    check(/988/.test(await notice.innerText()) && /911/.test(await notice.innerText()), "crisis notice without 988 and 911");
    const box = await notice.boundingBox();
    check(box && box.y + box.height <= 740, "the crisis notice is not in the first screen on a phone");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `the page scrolls sideways by ${overflow}px on a phone`);
    const problems = await page.evaluate(() => {
      const out = [];
      for (const form of document.querySelectorAll("form.lead-form")) {
        for (const el of form.querySelectorAll("input, select, textarea")) {
          if (el.type === "hidden" || el.name === "website") continue;
          if (!el.labels || el.labels.length === 0) out.push(`${el.id || el.name}: no label`);
          const ids = (el.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
          const errorEl = ids.map((id) => document.getElementById(id)).find((e) => e && e.hasAttribute("data-error-for"));
          if (!errorEl) out.push(`${el.id || el.name}: not described by an error element`);
          else if (errorEl.getAttribute("data-error-for") !== el.name) out.push(`${el.id}: described by the error of ${errorEl.getAttribute("data-error-for")}`);
          if (el.required && el.getAttribute("aria-required") !== "true") out.push(`${el.id}: required without aria-required`);
        }
        for (const fs of form.querySelectorAll("fieldset")) {
          if (!fs.querySelector(":scope > legend")) out.push(`a fieldset in ${form.id} has no legend`);
        }
        const hp = form.querySelector('[name="website"]');
        if (!hp || hp.tabIndex !== -1 || hp.autocomplete !== "off" || !hp.closest('[aria-hidden="true"]')) out.push(`${form.id}: honeypot is reachable`);
        const r = hp && hp.getBoundingClientRect();
        if (r && r.right > 0 && r.left < window.innerWidth && r.width > 1) out.push(`${form.id}: honeypot is on screen`);
        if (!form.querySelector('[data-summary][role="alert"]')) out.push(`${form.id}: no alert summary`);
      }
      return out;
    });
    check(problems.length === 0, problems.join("; "));
    await screenshot(page, "page-mobile.png");
    check(errors.length === 0, errors.join("; "));
    await page.close();
  });

  // 1. The happy path with JavaScript: JSON with the right types, the
  // thank-you state in place, attribution from the URL.
  await timed("consultation", async () => {
    const page = await context.newPage();
    const errors = watch(page);
    await page.goto(`${base}/?utm_source=e2e-test&utm_medium=browser&utm_campaign=leadpipe`);
    await fillConsultation(page, emails.consultation);
    await screenshot(page.locator("#consultation-form"), "consultation-filled.png");
    const responseP = page.waitForResponse((r) => r.url() === `${base}/consultations`);
    const request = await submitConsultation(page);
    const response = await responseP;

    const headers = request.headers();
    check(headers["content-type"] === "application/json", `content-type ${headers["content-type"]}`);
    check((headers["accept"] || "").includes("application/json"), `accept ${headers["accept"]}`);
    const key = headers["idempotency-key"];
    check(/^[0-9a-f-]{36}$/.test(key || ""), `idempotency-key ${key}`);
    const body = request.postDataJSON();
    check(Array.isArray(body.concerns) && body.concerns.join() === "depression,treatment_resistant_depression", `concerns ${JSON.stringify(body.concerns)}`);
    check(Array.isArray(body.preferredTimes) && body.preferredTimes.length === 2, `preferredTimes ${JSON.stringify(body.preferredTimes)}`);
    check(body.consentToContact === true && body.acknowledgedPrivacy === true, "consent booleans");
    check(body.inCrisis === false && body.smsConsent === false, "unticked boxes are false");
    check(body.utmSource === "e2e-test" && body.utmCampaign === "leadpipe", "utm fields from the URL");
    check(body.landingPage === `${base}/`, `landingPage ${body.landingPage}`);
    check(body.website === undefined, "the honeypot was sent filled");

    check(response.status() === 201, `status ${response.status()}`);
    const answer = await response.json();
    check(answer.status === "received" && answer.id, `answer ${JSON.stringify(answer)}`);
    const thanks = await thanksShown(page);
    check(await thanks.locator("[data-crisis]").isHidden(), "crisis resources shown without inCrisis");
    await screenshot(page, "consultation-thanks.png");
    summary.leads.consultation = answer.id;
    summary.keys.consultation = key;
    check(errors.length === 0, errors.join("; "));
    await page.close();
  });

  // 2. Invalid answers: the API's messages next to their fields, a summary,
  // focus on the first invalid field. Then the person corrects them and the
  // corrected submission goes through under a new key.
  await timed("invalid-then-corrected", async () => {
    const page = await context.newPage();
    const errors = watch(page);
    await page.goto(`${base}/`);
    const f = page.locator("#consultation-form");
    await f.getByLabel("First name").fill("Avery");
    await f.getByRole("textbox", { name: "Email", exact: true }).fill(emails.corrected);
    await f.getByRole("textbox", { name: "Phone", exact: true }).fill("555");
    const young = new Date();
    young.setFullYear(young.getFullYear() - 10);
    await f.getByLabel("Date of birth").fill(young.toISOString().slice(0, 10));
    const responseP = page.waitForResponse((r) => r.url() === `${base}/consultations`);
    const first = await submitConsultation(page);
    const response = await responseP;
    check(response.status() === 422, `status ${response.status()}, want 422`);
    const api = await response.json();
    const named = new Set(api.fields.map((fe) => fe.field));
    for (const want of ["lastName", "phone", "dateOfBirth", "state", "concerns", "consentToContact", "acknowledgedPrivacy"]) {
      check(named.has(want), `422 does not name ${want}: ${JSON.stringify(api.fields)}`);
    }

    await page.locator('#consultation-form [data-error-for="dateOfBirth"]:not(:empty)').waitFor();
    const dob = await errorText(page, "dateOfBirth");
    const concerns = await errorText(page, "concerns");
    const lastName = await errorText(page, "lastName");
    const phone = await errorText(page, "phone");
    check(/18 or older/.test(dob), `dateOfBirth error: ${JSON.stringify(dob)}`);
    check(/choose at least one/i.test(concerns), `concerns error: ${JSON.stringify(concerns)}`);
    check(/required/i.test(lastName), `lastName error: ${JSON.stringify(lastName)}`);
    check(/US phone number/.test(phone), `phone error: ${JSON.stringify(phone)}`);
    check((await errorText(page, "email")) === "", "an error is shown for the valid email");

    // Each message is tied to its control for assistive technology.
    for (const [name, id] of [["dateOfBirth", "c-dateOfBirth"], ["lastName", "c-lastName"], ["phone", "c-phone"]]) {
      const control = page.locator(`#${id}`);
      const described = (await control.getAttribute("aria-describedby")) || "";
      check(described.split(/\s+/).includes(`${id}-error`), `${name} is not described by its error`);
      check((await control.getAttribute("aria-invalid")) === "true", `${name} is not aria-invalid`);
    }
    const summaryBox = f.locator("[data-summary]");
    check(await summaryBox.isVisible(), "no error summary");
    check((await summaryBox.getAttribute("role")) === "alert", "the summary is not an alert");
    const focused = await page.evaluate(() => document.activeElement?.getAttribute("aria-invalid"));
    check(focused === "true", "focus is not on an invalid field");
    check(await f.getByRole("button", { name: "Request a consultation" }).isEnabled(), "submit stays disabled");
    await screenshot(page.locator("#consultation-form"), "consultation-errors.png");

    await fillConsultation(page, emails.corrected);
    const okP = page.waitForResponse((r) => r.url() === `${base}/consultations`);
    const second = await submitConsultation(page);
    const ok = await okP;
    check(ok.status() === 201, `corrected status ${ok.status()}`);
    check(second.headers()["idempotency-key"] !== first.headers()["idempotency-key"], "the corrected submission reused the key");
    await thanksShown(page);
    summary.leads.corrected = (await ok.json()).id;
    check(errors.length === 0, errors.join("; "));
    await page.close();
  });

  // 3. A retry after a lost answer: the first request reaches the API and
  // is saved, but the browser sees a network error. Pressing the button
  // again resends the same key, and the API returns the first lead.
  await timed("retry-same-key", async () => {
    const page = await context.newPage();
    const errors = watch(page);
    await page.goto(`${base}/`);
    await fillConsultation(page, emails.retry);
    let firstAnswer = null;
    await page.route(`${base}/consultations`, async (route) => {
      const resp = await route.fetch();
      firstAnswer = { status: resp.status(), body: await resp.json() };
      await route.abort("connectionreset");
    }, { times: 1 });
    const first = await submitConsultation(page);
    const summaryBox = page.locator("#consultation-form [data-summary]");
    await summaryBox.filter({ hasText: "try again" }).waitFor();
    check(firstAnswer && firstAnswer.status === 201, `first attempt ${JSON.stringify(firstAnswer)}`);
    check(await page.locator("#consultation-form").isVisible(), "the form vanished after a network error");
    check(await page.getByLabel("Referring provider").inputValue() === "Dr. Jordan Rivera", "answers lost after a network error");

    const secondP = page.waitForResponse((r) => r.url() === `${base}/consultations`);
    const second = await submitConsultation(page);
    const resp = await secondP;
    const k1 = first.headers()["idempotency-key"];
    const k2 = second.headers()["idempotency-key"];
    check(k1 && k1 === k2, `retry used a new key: ${k1} then ${k2}`);
    check(resp.status() === 201, `retry status ${resp.status()}`);
    const answer = await resp.json();
    check(answer.id === firstAnswer.body.id, `retry got lead ${answer.id}, first was ${firstAnswer.body.id}`);
    await thanksShown(page);
    summary.leads.retry = answer.id;
    summary.keys.retry = k1;
    check(errors.length === 0, errors.join("; "));
    await page.close();
  });

  // 4. The key across a 503, a network error and a change of answer: kept
  // while the answers are unchanged, new once one changes.
  await timed("retry-then-change", async () => {
    const page = await context.newPage();
    const errors = watch(page);
    await page.goto(`${base}/`);
    await fillConsultation(page, emails.rekey);
    let n = 0;
    await page.route(`${base}/consultations`, async (route) => {
      n++;
      if (n === 1) {
        await route.fulfill({ status: 503, headers: { "Retry-After": "5" }, contentType: "application/json", body: '{"error":"unavailable","message":"try again"}' });
      } else {
        await route.abort("internetdisconnected");
      }
    }, { times: 2 });
    const summaryBox = page.locator("#consultation-form [data-summary]");
    const a = await submitConsultation(page);
    await summaryBox.filter({ hasText: "try again" }).waitFor();
    const b = await submitConsultation(page);
    await page.waitForFunction(() => !document.querySelector("#consultation-form button[type=submit]").disabled);
    check(a.headers()["idempotency-key"] === b.headers()["idempotency-key"], "a retry after 503 changed the key");
    await page.getByLabel("Message", { exact: true }).fill("Changed my mind about the wording.");
    const okP = page.waitForResponse((r) => r.url() === `${base}/consultations`);
    const c = await submitConsultation(page);
    const ok = await okP;
    check(c.headers()["idempotency-key"] !== b.headers()["idempotency-key"], "a changed answer kept the old key");
    check(ok.status() === 201, `status ${ok.status()}`);
    await thanksShown(page);
    summary.leads.rekey = (await ok.json()).id;
    check(errors.length === 0, errors.join("; "));
    await page.close();
  });

  // 5. Someone in crisis sees the crisis line at once.
  await timed("crisis", async () => {
    const page = await context.newPage();
    const errors = watch(page);
    await page.goto(`${base}/`);
    await fillConsultation(page, emails.crisis, { inCrisis: true, message: "I am struggling a lot right now." });
    const okP = page.waitForResponse((r) => r.url() === `${base}/consultations`);
    const request = await submitConsultation(page);
    const ok = await okP;
    check(request.postDataJSON().inCrisis === true, "inCrisis was not sent as true");
    check(ok.status() === 201, `status ${ok.status()}`);
    const answer = await ok.json();
    check(answer.crisis, "the API returned no crisis resources");
    const thanks = await thanksShown(page);
    const crisis = thanks.locator("[data-crisis]");
    await crisis.waitFor({ state: "visible" });
    const text = await crisis.innerText();
    check(/988/.test(text), `crisis resources without 988: ${JSON.stringify(text)}`);
    check(/911/.test(text), `crisis resources without 911: ${JSON.stringify(text)}`);
    check((await crisis.locator('a[href="tel:988"]').count()) === 1, "no call link to 988");
    await screenshot(page, "consultation-crisis.png");
    summary.leads.crisis = answer.id;
    check(errors.length === 0, errors.join("; "));
    await page.close();
  });

  // 6. Without JavaScript: plain form posts, 303 to the thank-you page.
  await timed("no-js", async () => {
    const noJS = await fresh({ javaScriptEnabled: false });
    const page = await noJS.newPage();
    const errors = watch(page);
    await page.goto(`${base}/`);
    const f = page.locator("#contact-form");
    await f.getByLabel("Your name").fill("Sam Nojs");
    await f.getByRole("textbox", { name: "Email", exact: true }).fill(emails.contact);
    await f.getByRole("textbox", { name: "Phone", exact: true }).fill("410-555-0188");
    await f.getByRole("textbox", { name: "Message", exact: true }).fill("Do you take insurance?");
    await f.getByRole("radio", { name: "Email" }).check();
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.method() === "POST" && r.url() === `${base}/contact`),
      page.waitForURL(/\/thank-you\.html$/),
      f.getByRole("button", { name: "Send message" }).click(),
    ]);
    check((request.headers()["content-type"] || "").startsWith("application/x-www-form-urlencoded"), `content-type ${request.headers()["content-type"]}`);
    check(!request.headers()["idempotency-key"], "a plain form post carried an Idempotency-Key");
    const resp = await request.response();
    check(resp && resp.status() === 303, `status ${resp && resp.status()}, want 303`);
    check(/Thank you/.test(await page.locator("h1").innerText()), "thank-you page heading");
    check(/988/.test(await page.locator("body").innerText()), "thank-you page without the crisis line");
    await screenshot(page, "contact-no-js-thanks.png");

    // The consultation form too: every control's name must be one the API
    // knows, empty ones included (a plain post sends them all).
    await page.goto(`${base}/`);
    await fillConsultation(page, emails.plain);
    const [plain] = await Promise.all([
      page.waitForRequest((r) => r.method() === "POST" && r.url() === `${base}/consultations`),
      page.waitForURL(/\/thank-you\.html$/),
      page.locator("#consultation-form").getByRole("button", { name: "Request a consultation" }).click(),
    ]);
    const sent = new URLSearchParams(plain.postData());
    check(sent.getAll("concerns").join() === "depression,treatment_resistant_depression", `concerns ${sent.getAll("concerns")}`);
    check(sent.get("consentToContact") === "on", "a ticked box was not sent as on");
    check(!sent.has("inCrisis"), "an unticked box was sent");
    const plainResp = await plain.response();
    check(plainResp && plainResp.status() === 303, `consultation status ${plainResp && plainResp.status()}, want 303`);

    // A post the API refuses (text messages chosen, no consent to texts:
    // nothing the browser can check) comes back as a page to read, not JSON.
    await page.goto(`${base}/`);
    await f.getByLabel("Your name").fill("Sam Nojs");
    await f.getByRole("textbox", { name: "Email", exact: true }).fill("refused-" + emails.contact);
    await f.getByRole("textbox", { name: "Phone", exact: true }).fill("410-555-0188");
    await f.getByRole("textbox", { name: "Message", exact: true }).fill("Please text me.");
    await f.getByRole("radio", { name: "Text message" }).check();
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && r.url() === `${base}/contact`),
      f.getByRole("button", { name: "Send message" }).click(),
    ]);
    check(refused.status() === 422, `refused post status ${refused.status()}, want 422`);
    check((refused.headers()["content-type"] || "").startsWith("text/html"), `refused post content-type ${refused.headers()["content-type"]}`);
    const refusedText = await page.locator("body").innerText();
    check(/Some answers need another look/.test(refusedText), `error page heading: ${JSON.stringify(refusedText.slice(0, 200))}`);
    check(/please agree to text messages/.test(refusedText), "error page lacks the smsConsent message");
    check(/988/.test(refusedText), "error page without the crisis line");
    await screenshot(page, "contact-no-js-error.png");
    check(errors.length === 0, errors.join("; "));
    await noJS.close();
  });
}

await finish(main);
