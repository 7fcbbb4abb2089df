/*
 * leadpipe example forms: progressive enhancement for index.html.
 *
 * Without this script the forms are plain HTML forms and still work. With
 * it, each form (class "lead-form"):
 *   - fills the hidden attribution fields (utm_* from the URL, landing page,
 *     referrer);
 *   - sends the answers as JSON to the form's action URL, so the same
 *     attribute configures both paths;
 *   - shows errors next to the fields they belong to, and a summary;
 *   - shows the thank-you message in place, with crisis resources when the
 *     API returns them;
 *   - sends an Idempotency-Key header. A retry of the same, unchanged
 *     answers after a network error or a 5xx reuses the key, so the clinic
 *     gets one lead however many times the person presses the button. Any
 *     changed answer gets a new key.
 *
 * No framework, no build step, no requests to anyone but your API. Plain
 * ES2017 that every current browser runs.
 */
(function () {
  "use strict";

  // Messages for answers that carry no field errors. Keep them kind: the
  // person may be having a hard day.
  var MESSAGES = {
    sending: "Sending…",
    invalid: "Some answers need another look. Please check the fields marked below.",
    retry: "We could not reach our server just now. Your answers are still here: please try again in a moment.",
    generic: "Sorry, something went wrong on our side and your request was not sent. Please reload the page and try again, or call us.",
    robot: "We could not confirm that this came from a person. Please reload the page and try again."
  };

  // How long to wait for the API before offering a retry. API Gateway gives
  // up after 30 seconds, so an answer later than this is not coming.
  var REQUEST_TIMEOUT_MS = 35000;

  // Attribution: URL parameter -> form field.
  var UTM_FIELDS = {
    utm_source: "utmSource",
    utm_medium: "utmMedium",
    utm_campaign: "utmCampaign",
    utm_term: "utmTerm",
    utm_content: "utmContent"
  };

  // A browser too old for fetch or crypto keeps the plain HTML forms,
  // which work on their own.
  if (!window.fetch || !window.URL || !window.URLSearchParams || !window.crypto) {
    return;
  }

  function start() {
    var forms = document.querySelectorAll("form.lead-form");
    for (var i = 0; i < forms.length; i++) {
      enhance(forms[i]);
    }
  }
  // Works with <script defer> in the head and with a script at the end of
  // the body alike.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }

  function enhance(form) {
    fillAttribution(form);
    // The API is the one place that validates, so the messages a person sees
    // are the same with and without JavaScript. The browser's own checks
    // (required, type="email") stay on for the no-JavaScript path.
    form.noValidate = true;

    // The retry memory of this form: the key of the last attempt that may
    // have reached the server, and the answers it was sent with.
    var pending = null; // {key: string, fingerprint: string}
    var sending = false;

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (sending) {
        return; // a double click must not start a second request
      }
      var answers = serialize(form);
      var body = JSON.stringify(answers);
      var fingerprint = JSON.stringify(withoutToken(answers));
      if (!pending || pending.fingerprint !== fingerprint) {
        pending = { key: newKey(), fingerprint: fingerprint };
      }
      sending = true;
      setBusy(form, true);
      clearErrors(form);
      setStatus(form, MESSAGES.sending);

      send(endpoint(form), body, pending.key).then(function (result) {
        sending = false;
        setBusy(form, false);
        setStatus(form, "");
        var outcome = handle(form, result);
        // Only an answer that may not have been saved keeps the key, and a
        // failed bot check: if an earlier attempt with this key was saved,
        // the API recognises the retry; after anything else a new attempt
        // is a new submission.
        if (outcome !== "retry" && outcome !== "robot") {
          pending = null;
        }
        if (outcome !== "done") {
          resetTurnstile(form);
        }
      });
    });
  }

  // endpoint is the form's action attribute, resolved against the page: a
  // relative "/consultations" when the API is on the same origin (the dev
  // stack), or a full API URL on a clinic's site.
  function endpoint(form) {
    return new URL(form.getAttribute("action"), document.baseURI).href;
  }

  // send POSTs body and resolves, never rejects, with {status, data}:
  // status 0 means the request did not complete (offline, aborted, CORS,
  // no answer within REQUEST_TIMEOUT_MS).
  function send(url, body, key) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    return fetch(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Idempotency-Key": key
      },
      body: body,
      credentials: "omit", // the API needs no cookies
      cache: "no-store",
      signal: controller ? controller.signal : undefined
    }).then(function (resp) {
      return resp.json().then(
        function (data) { return { status: resp.status, data: data }; },
        function () { return { status: resp.status, data: null }; }
      );
    }, function () {
      return { status: 0, data: null };
    }).then(function (result) {
      clearTimeout(timer);
      return result;
    });
  }

  // handle shows the answer and reports what happened: "done", "retry",
  // "invalid" or "failed".
  function handle(form, result) {
    var s = result.status;
    var data = result.data || {};
    if (s === 201 || s === 200) {
      showThanks(form, data);
      return "done";
    }
    if (s === 422 && Array.isArray(data.fields)) {
      showFieldErrors(form, data.fields, data.message);
      return "invalid";
    }
    if (s === 0 || s === 429 || s >= 500) {
      // The request may or may not have been saved: the same key on the
      // next attempt makes the API return the first answer, not a second
      // lead.
      showSummary(form, MESSAGES.retry);
      return "retry";
    }
    if (s === 403) {
      showSummary(form, MESSAGES.robot);
      return "robot";
    }
    // 400, 413, 415, and a 422 for a reused key: nothing the person can fix
    // field by field. The API's own message is written for people, but a
    // fixed text cannot surprise anyone.
    showSummary(form, MESSAGES.generic);
    return "failed";
  }

  // serialize turns the form into the API's JSON: lists for checkbox groups
  // (checkboxes with a value attribute), true/false for single checkboxes
  // (no value attribute), strings for the rest. Empty answers are left out.
  function serialize(form) {
    var out = {};
    var els = form.elements;
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (!el.name || el.disabled || el.tagName === "BUTTON" || el.tagName === "FIELDSET") {
        continue;
      }
      if (el.type === "checkbox" && !el.hasAttribute("value")) {
        out[el.name] = el.checked;
      } else if (el.type === "checkbox") {
        if (!Array.isArray(out[el.name])) {
          out[el.name] = [];
        }
        if (el.checked) {
          out[el.name].push(el.value);
        }
      } else if (el.type === "radio") {
        if (el.checked) {
          out[el.name] = el.value;
        }
      } else if (el.value !== "") {
        out[el.name] = el.value;
      }
    }
    // An empty list says nothing the absence of the key does not.
    Object.keys(out).forEach(function (k) {
      if (Array.isArray(out[k]) && out[k].length === 0) {
        delete out[k];
      }
    });
    return out;
  }

  // withoutToken drops the Turnstile token, which changes on every attempt
  // (tokens are single-use), from the answers that decide whether a retry
  // is the same submission. The API leaves it out of its comparison too.
  function withoutToken(answers) {
    var copy = {};
    Object.keys(answers).forEach(function (k) {
      if (k !== "cf-turnstile-response") {
        copy[k] = answers[k];
      }
    });
    return copy;
  }

  // resetTurnstile asks a Turnstile widget in the form, if there is one, for
  // a fresh token: the API spends a token on each attempt it checks.
  function resetTurnstile(form) {
    var widget = form.querySelector(".cf-turnstile");
    if (widget && window.turnstile && typeof window.turnstile.reset === "function") {
      try {
        window.turnstile.reset(widget);
      } catch (e) {
        // A widget that cannot reset leaves the old token; the API then
        // answers 403 and the person is asked to reload.
      }
    }
  }

  // newKey returns a fresh random idempotency key. crypto.randomUUID needs
  // a secure context (https, or http on localhost); the fallback covers a
  // page opened over plain http on a LAN during development.
  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  // fillAttribution records where the visitor came from. The landing page
  // and referrer lose their query string and fragment: those can carry an
  // email address or a token, and the clinic does not need them.
  function fillAttribution(form) {
    var params = new URLSearchParams(window.location.search);
    Object.keys(UTM_FIELDS).forEach(function (param) {
      setHidden(form, UTM_FIELDS[param], (params.get(param) || "").slice(0, 200));
    });
    setHidden(form, "landingPage", window.location.origin + window.location.pathname);
    setHidden(form, "referrer", withoutQuery(document.referrer));
  }

  function withoutQuery(url) {
    if (!url) {
      return "";
    }
    try {
      var u = new URL(url);
      return u.origin + u.pathname;
    } catch (e) {
      return "";
    }
  }

  function setHidden(form, name, value) {
    var el = form.elements.namedItem(name);
    if (el && el.type === "hidden") {
      el.value = value;
    }
  }

  // ---- showing things -----------------------------------------------------

  function setBusy(form, busy) {
    var buttons = form.querySelectorAll("button[type=submit], button:not([type])");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].disabled = busy;
    }
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function setStatus(form, text) {
    var el = form.querySelector("[data-status]");
    if (el) {
      el.textContent = text;
    }
  }

  function showSummary(form, text, items) {
    var el = form.querySelector("[data-summary]");
    if (!el) {
      return;
    }
    el.textContent = "";
    var p = document.createElement("p");
    p.textContent = text;
    el.appendChild(p);
    if (items && items.length) {
      var ul = document.createElement("ul");
      items.forEach(function (item) {
        var li = document.createElement("li");
        if (item.target) {
          var a = document.createElement("a");
          a.href = "#" + item.target.id;
          a.textContent = item.text;
          a.addEventListener("click", function (e) {
            e.preventDefault();
            item.target.focus();
          });
          li.appendChild(a);
        } else {
          li.textContent = item.text;
        }
        ul.appendChild(li);
      });
      el.appendChild(ul);
    }
    el.classList.add("is-visible");
  }

  function clearErrors(form) {
    var summary = form.querySelector("[data-summary]");
    if (summary) {
      summary.textContent = "";
      summary.classList.remove("is-visible");
    }
    var errs = form.querySelectorAll("[data-error-for]");
    for (var i = 0; i < errs.length; i++) {
      errs[i].textContent = "";
    }
    var invalid = form.querySelectorAll("[aria-invalid]");
    for (var j = 0; j < invalid.length; j++) {
      invalid[j].removeAttribute("aria-invalid");
    }
  }

  // showFieldErrors puts each message next to its field (the API names
  // fields by their JSON name, which is the control's name here), lists them
  // in the summary and moves focus to the first field that needs attention.
  function showFieldErrors(form, fields, message) {
    var items = [];
    var first = null;
    fields.forEach(function (fe) {
      if (!fe || typeof fe.field !== "string") {
        return;
      }
      var text = String(fe.message || "is not valid");
      var control = firstControl(form, fe.field);
      var slot = errorSlot(form, fe.field);
      var label = control ? labelFor(control, fe.field) : fe.field;
      if (slot) {
        slot.textContent = capitalize(text);
      }
      if (control) {
        markInvalid(form, fe.field);
        if (!first) {
          first = control;
        }
      }
      items.push({ text: label + ": " + text, target: control });
    });
    showSummary(form, MESSAGES.invalid, items);
    if (first) {
      first.focus();
    } else {
      focusSummary(form);
    }
  }

  function firstControl(form, name) {
    var els = form.elements;
    for (var i = 0; i < els.length; i++) {
      if (els[i].name === name && els[i].type !== "hidden") {
        return els[i];
      }
    }
    return null;
  }

  function errorSlot(form, name) {
    var slots = form.querySelectorAll("[data-error-for]");
    for (var i = 0; i < slots.length; i++) {
      if (slots[i].getAttribute("data-error-for") === name) {
        return slots[i];
      }
    }
    return null;
  }

  function markInvalid(form, name) {
    var els = form.elements;
    for (var i = 0; i < els.length; i++) {
      if (els[i].name === name) {
        els[i].setAttribute("aria-invalid", "true");
      }
    }
  }

  // labelFor names a control for the summary: a checkbox group by its
  // legend, anything else by its label.
  function labelFor(control, fallback) {
    var group = control.closest("fieldset.choices");
    if ((control.type === "checkbox" && control.hasAttribute("value")) || control.type === "radio") {
      var legend = group && group.querySelector("legend");
      if (legend) {
        return cleanLabel(legend);
      }
    }
    if (control.labels && control.labels.length) {
      return cleanLabel(control.labels[0]);
    }
    return fallback;
  }

  // cleanLabel is a label's visible text without the required-field star.
  function cleanLabel(el) {
    var copy = el.cloneNode(true);
    var hidden = copy.querySelectorAll("[aria-hidden=true], .visually-hidden");
    for (var i = 0; i < hidden.length; i++) {
      hidden[i].remove();
    }
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  function capitalize(s) {
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  function focusSummary(form) {
    var el = form.querySelector("[data-summary]");
    if (el) {
      el.setAttribute("tabindex", "-1");
      el.focus();
    }
  }

  // showThanks replaces the form with its thank-you block and moves focus
  // there, so screen readers announce it. Crisis resources from the API come
  // first and are built as text, never as HTML.
  function showThanks(form, data) {
    var thanks = document.querySelector('[data-thanks-for="' + form.id + '"]');
    if (!thanks) {
      form.reset();
      setStatus(form, "Thank you. We received your request.");
      return;
    }
    var crisisBox = thanks.querySelector("[data-crisis]");
    if (crisisBox && data.crisis) {
      renderCrisis(crisisBox, data.crisis);
    }
    form.hidden = true;
    thanks.hidden = false;
    thanks.focus();
  }

  function renderCrisis(box, crisis) {
    box.textContent = "";
    box.setAttribute("role", "alert");
    var h = document.createElement("h4");
    h.textContent = "Help is available right now";
    box.appendChild(h);
    if (crisis.message) {
      var p = document.createElement("p");
      p.textContent = String(crisis.message);
      box.appendChild(p);
    }
    var resources = Array.isArray(crisis.resources) ? crisis.resources : [];
    var ul = document.createElement("ul");
    resources.forEach(function (r) {
      var li = document.createElement("li");
      var name = document.createElement("strong");
      name.textContent = String(r.name || "");
      li.appendChild(name);
      if (r.action) {
        li.appendChild(document.createTextNode(": " + r.action));
      }
      // One tap to call or text on a phone.
      var links = [];
      if (isDialable(r.phone)) {
        links.push(link("tel:" + r.phone, "Call " + r.phone));
      }
      if (isDialable(r.text)) {
        links.push(link("sms:" + r.text, "Text " + r.text));
      }
      if (typeof r.url === "string" && /^https:\/\//.test(r.url)) {
        links.push(link(r.url, r.url.replace(/^https:\/\//, "")));
      }
      if (links.length) {
        var line = document.createElement("span");
        line.className = "crisis-links";
        links.forEach(function (a, i) {
          if (i > 0) {
            line.appendChild(document.createTextNode(" · "));
          }
          line.appendChild(a);
        });
        li.appendChild(line);
      }
      ul.appendChild(li);
    });
    if (!resources.length) {
      // The API always lists resources; this is the floor if it does not.
      var li = document.createElement("li");
      li.textContent = "Call or text 988 (Suicide & Crisis Lifeline). In an emergency, call 911.";
      ul.appendChild(li);
    }
    box.appendChild(ul);
    box.hidden = false;
  }

  function isDialable(s) {
    return typeof s === "string" && /^[0-9+]{3,15}$/.test(s);
  }

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }
})();
