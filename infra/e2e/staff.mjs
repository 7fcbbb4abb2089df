// Browser test of the staff inbox (internal/staff/web) against a running
// dev stack: a person in crisis asks for a consultation on the example
// site; staff sign in, find the lead at the top of the New list with its
// crisis marker, read the medications answer, mark it contacted with a
// note, reload, and sign out, after which nothing of the lead is left in
// the page or in its storage.
//
// e2e_test.go runs it after browser.mjs, on the same stack; to run it by
// hand against `make dev`:
//
//   LEADPIPE_E2E='{"baseURL":"http://127.0.0.1:3000"}' node infra/e2e/staff.mjs
//
// Input (env LEADPIPE_E2E, JSON): baseURL (required), artifacts, chromium
// (as for browser.mjs), and staff: {user, password} (the seeded staff
// account; defaults are the dev stack's), {email, firstName, lastName,
// medications, note} (what the person and staff write; defaults are made
// unique from the time).
//
// Output: one JSON summary on stdout with leads.staff (the lead's id), the
// audit actions seen after the reload, and the cognito endpoint the page
// signed in at; see lib.mjs.
import { check, createRun, fillConsultation, readInput, thanksShown } from "./lib.mjs";

const input = readInput("staff.mjs");
const run = Date.now().toString(36);
const want = {
  user: "staff@clinic.test",
  password: process.env.LEADPIPE_DEV_STAFF_PASSWORD || "Clinic-Staff-2026!",
  email: `e2e-staff-${run}@example.com`,
  firstName: "Rowan",
  lastName: "Inboxtest",
  medications: `Lamotrigine 25 mg twice daily (e2e ${run})`,
  note: `Called back (e2e ${run}): booked a screening call for Tuesday.`,
  ...(input.staff || {}),
};
const { base, summary, fresh, watch, screenshot, timed, submitConsultation, finish } = createRun(input, { staff: {} });

// leadData are the strings that identify the person or carry health
// information: none may stay in the page or its storage after sign-out,
// nor ever appear in a URL.
const leadData = () => [`${want.firstName} ${want.lastName}`, want.lastName, want.email, want.medications, want.note];

// auditActions are the data-action values of the audit trail shown, in
// the page's order (newest first).
async function auditActions(page) {
  return page.locator("#audit-list li[data-testid=audit-entry]").evaluateAll((els) => els.map((e) => e.getAttribute("data-action")));
}

function sameSet(got, wantList) {
  return JSON.stringify([...got].sort()) === JSON.stringify([...wantList].sort());
}

// storage returns everything the page keeps in sessionStorage and
// localStorage, as "key=value" lines.
async function storage(page) {
  return page.evaluate(() => {
    const dump = (s) => Array.from({ length: s.length }, (_, i) => `${s.key(i)}=${s.getItem(s.key(i))}`);
    return { session: dump(sessionStorage), local: dump(localStorage) };
  });
}

// pageText is everything of the document a script or a person could read
// back: its markup (attributes and hidden elements included), the values
// of form controls (a property, not in the markup) and the title.
async function pageText(page) {
  return page.evaluate(() => {
    const values = Array.from(document.querySelectorAll("input, textarea, select"), (e) => e.value);
    return [document.title, document.documentElement.outerHTML, ...values].join("\n");
  });
}

function leaks(text) {
  return leadData().filter((s) => text.includes(s) || text.includes(encodeURIComponent(s)));
}

async function main() {
  let id = "";

  // 1. The person, on the public example page, in crisis.
  await timed("staff-submit", async () => {
    const site = await fresh();
    const page = await site.newPage();
    const errors = watch(page);
    await page.goto(`${base}/`);
    await fillConsultation(page, want.email, {
      firstName: want.firstName,
      lastName: want.lastName,
      medications: want.medications,
      inCrisis: true,
    });
    const okP = page.waitForResponse((r) => r.url() === `${base}/consultations`);
    const request = await submitConsultation(page);
    const ok = await okP;
    check(request.postDataJSON().inCrisis === true, "inCrisis was not sent as true");
    check(ok.status() === 201, `status ${ok.status()}`);
    id = (await ok.json()).id;
    check(/^[0-9a-f-]{36}$/.test(id || ""), `lead id ${id}`);
    await thanksShown(page);
    summary.leads.staff = id;
    check(errors.length === 0, errors.join("; "));
    await site.close();
  });

  // The inbox runs in a profile of its own, so its storage holds only what
  // the inbox put there. Sign-in goes to the Cognito endpoint config.json
  // names (cognito-local here); no request may go anywhere else.
  const inbox = await fresh();
  const page = await inbox.newPage();
  const config = await (await page.request.get(`${base}/staff/config.json`)).json();
  check(config.cognitoEndpoint, `config.json names no cognitoEndpoint: ${JSON.stringify(config)}`);
  summary.staff.cognitoEndpoint = config.cognitoEndpoint;
  // cognito-local does not implement GlobalSignOut, which the page calls
  // (best-effort) on sign-out: a failed call there is no fault of the page.
  // The inbox page declares no icon, so Chromium asks for /favicon.ico,
  // which the API answers 404; harmless, and the page's to fix.
  const cognitoOrigin = new URL(config.cognitoEndpoint).origin;
  const quiet = new RegExp(`^(${cognitoOrigin.replace(/[.]/g, "\\.")}/|${base.replace(/[.]/g, "\\.")}/favicon\\.ico$)`);
  const errors = watch(page, { allow: [cognitoOrigin], quiet });
  const urls = [];
  page.on("request", (r) => urls.push(r.url()));

  // 2. Sign in as the seeded staff user; the lead is first in the New
  // list (crisis leads are pinned first, and it is the newest of them).
  await timed("staff-sign-in", async () => {
    await page.goto(`${base}/staff`);
    await page.locator("#signin-email").fill(want.user);
    await page.locator("#signin-password").fill(want.password);
    await screenshot(page, "inbox-sign-in.png");
    await page.locator("#signin-submit").click();
    const rows = page.locator("ul#lead-list li[data-testid=lead-row]");
    await rows.first().waitFor();
    check((await page.locator("#filter-status-new").getAttribute("aria-pressed")) === "true", "the New filter is not the one shown");
    const first = rows.first();
    check((await first.getAttribute("data-lead-id")) === id, `first row is lead ${await first.getAttribute("data-lead-id")}, want ${id}`);
    check((await first.getAttribute("data-crisis")) === "true", "the first row is not marked in crisis");
    check((await first.getAttribute("data-status")) === "new", `the first row's status is ${await first.getAttribute("data-status")}`);
    const marker = first.locator("[data-testid=crisis-marker]");
    check(await marker.isVisible(), "the first row shows no crisis marker");
    check((await first.locator("[data-testid=lead-name]").innerText()).includes(want.lastName), "the first row does not show the person's name");
    await screenshot(page, "inbox-list.png");
  });

  let version = 0;
  // 3. Open it: the medications answer is there; the view is audited.
  await timed("staff-open", async () => {
    await page.locator(`ul#lead-list li[data-lead-id="${id}"] a[data-testid=lead-link]`).click();
    const detail = page.locator(`article[data-testid=lead-detail][data-lead-id="${id}"]`);
    await detail.waitFor();
    check(page.url() === `${base}/staff#/leads/${id}`, `the lead's URL is ${page.url()}`);
    const meds = (await page.locator("[data-testid=field][data-key=currentMedications] dd").innerText()).trim();
    check(meds === want.medications, `currentMedications shows ${JSON.stringify(meds)}, want ${JSON.stringify(want.medications)}`);
    check(await detail.locator("[data-testid=crisis-marker]").isVisible(), "the lead shows no crisis marker");
    check((await detail.getAttribute("data-status")) === "new", `status ${await detail.getAttribute("data-status")}`);
    version = Number(await detail.getAttribute("data-version"));
    check(version >= 1, `version ${version}`);
    const actions = await auditActions(page);
    check(sameSet(actions, ["viewed"]), `audit after the first view: ${JSON.stringify(actions)}, want ["viewed"]`);
    const kept = await storage(page);
    check(kept.local.length === 0, `localStorage holds ${JSON.stringify(kept.local)}`);
    check(leaks(kept.session.join("\n")).length === 0, `sessionStorage holds lead data: ${leaks(kept.session.join("\n"))}`);
    await screenshot(page, "inbox-lead.png", { fullPage: true });
  });

  // 4. Mark it contacted with a note: one PATCH with both.
  await timed("staff-change", async () => {
    await page.locator("#status-select").selectOption("contacted");
    await page.locator("#note").fill(want.note);
    const [patch] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "PATCH" && r.url() === `${base}/staff/leads/${id}`),
      page.locator("#save").click(),
    ]);
    check(patch.status() === 200, `PATCH answered ${patch.status()}: ${await patch.text()}`);
    const sent = patch.request().postDataJSON();
    check(sent.status === "contacted" && sent.note === want.note && sent.version === version, `PATCH sent ${JSON.stringify(sent)}`);
    const detail = page.locator(`article[data-testid=lead-detail][data-lead-id="${id}"][data-status=contacted]`);
    await detail.waitFor();
    const after = Number(await detail.getAttribute("data-version"));
    check(after > version, `version ${after} after the change, was ${version}`);
    version = after;
  });

  // 5. Reload: the session survives (sessionStorage), the lead is read
  // again, and shows the change, the note and the audit trail.
  await timed("staff-reload", async () => {
    await page.reload();
    const detail = page.locator(`article[data-testid=lead-detail][data-lead-id="${id}"]`);
    await detail.waitFor();
    check((await detail.getAttribute("data-status")) === "contacted", `status after reload ${await detail.getAttribute("data-status")}`);
    check(Number(await detail.getAttribute("data-version")) === version, `version after reload ${await detail.getAttribute("data-version")}, want ${version}`);
    check((await page.locator("[data-testid=detail-status]").innerText()).trim() === "Contacted", "the status shown is not Contacted");
    const notes = await page.locator("#notes-list [data-testid=note-entry] .note-text").allInnerTexts();
    check(notes.length === 1 && notes[0].trim() === want.note, `notes ${JSON.stringify(notes)}`);
    const history = await page.locator("#history-list [data-testid=history-entry]").allInnerTexts();
    check(history.length === 1 && /New → Contacted/.test(history[0]) && history[0].includes(want.user), `history ${JSON.stringify(history)}`);
    // The trail holds exactly four entries: the first view (step 3); the
    // PATCH, which wrote one status_changed and one note_added entry in its
    // transaction; and this view after the reload, which the detail
    // includes because it is recorded before the lead is answered.
    // Listing writes none. Newest first: this view, then the change's two
    // (same time, either order), then the first view.
    const actions = await auditActions(page);
    summary.staff.audit = actions;
    check(sameSet(actions, ["viewed", "status_changed", "note_added", "viewed"]), `audit after reload: ${JSON.stringify(actions)}`);
    check(actions[0] === "viewed" && actions[3] === "viewed", `audit order (newest first): ${JSON.stringify(actions)}`);
    const who = await page.locator("#audit-list li[data-testid=audit-entry]").allInnerTexts();
    check(who.every((t) => t.includes(want.user)), `audit entries not all by ${want.user}: ${JSON.stringify(who)}`);
    await screenshot(page.locator("#audit-section"), "inbox-after-reload-audit.png");
    await screenshot(page, "inbox-after-reload.png", { fullPage: true });
  });

  // 6. Sign out: the sign-in form, and nothing of the lead left anywhere
  // a later user of this browser could look, the Back button included.
  await timed("staff-sign-out", async () => {
    await page.locator("#sign-out").click();
    await page.locator("#signin-email").waitFor();
    const gone = async (when) => {
      const found = leaks(await pageText(page));
      check(found.length === 0, `${when}: the page still holds ${JSON.stringify(found)}`);
      check((await page.locator("[data-testid=lead-detail], #lead-list").count()) === 0, `${when}: a lead or the list is still in the page`);
      const kept = await storage(page);
      const all = [...kept.session, ...kept.local].join("\n");
      check(leaks(all).length === 0 && !all.includes(id), `${when}: storage holds lead data: ${JSON.stringify(kept)}`);
      check(!/eyJ[A-Za-z0-9_-]+\./.test(all), `${when}: storage still holds a token`);
      check(!page.url().includes(id), `${when}: the URL still names the lead: ${page.url()}`);
    };
    await gone("after sign-out");
    await screenshot(page, "inbox-signed-out.png");
    await page.goBack();
    await page.locator("#signin-email").waitFor();
    await gone("after sign-out and Back");
  });

  // Health data never went into a URL: only the lead's id did.
  const inURL = urls.flatMap((u) => leaks(u).map((s) => `${s} in ${u}`));
  check(inURL.length === 0, inURL.join("; "));
  check(errors.length === 0, errors.join("; "));
}

await finish(main);
