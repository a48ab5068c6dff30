/* Progressive enhancement for the phone form: autosave, resume after reload, and a submission queue that
   retries after a network failure with the same idempotency key, so the server stores the answer once.
   "Đã gửi" is shown only by the thank-you page, i.e. after the server acknowledged the answer. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  var thanks = document.querySelector("[data-kiosk-return]");
  if (thanks) { setTimeout(function () { location.href = thanks.getAttribute("data-kiosk-return"); }, 8000); }
  if (!form) { return; }
  var draftKey = "draft:" + form.getAttribute("action");
  var outboxKey = "outbox:" + form.getAttribute("action");
  var status = document.getElementById("send-status");
  var retryDelay = 2000;

  function read(key) { try { return JSON.parse(localStorage.getItem(key)); } catch (e) { return null; } }
  function write(key, value) { try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* full or private mode */ } }
  function pairs() { var list = []; new FormData(form).forEach(function (v, k) { list.push([k, v]); }); return list; }
  function say(text) { if (status) { status.textContent = text; status.hidden = !text; } }

  function restore(saved) {
    var byName = {};
    saved.forEach(function (pair) { (byName[pair[0]] = byName[pair[0]] || []).push(pair[1]); });
    Array.prototype.forEach.call(form.elements, function (field) {
      var values = byName[field.name];
      if (!values || field.type === "submit" || /\._count$/.test(field.name)) { return; }  /* blocks: the server's */
      if (field.type === "radio" || field.type === "checkbox") { field.checked = values.indexOf(field.value) >= 0; }
      else { field.value = values[0]; }
    });
  }

  function send(body) {
    say(form.getAttribute("data-sending"));
    fetch(form.getAttribute("action"), {
      method: "POST", body: new URLSearchParams(body), credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (response) {
      if (response.status >= 500 || response.status === 429) { throw new Error("busy"); }  /* not stored: resend */
      localStorage.removeItem(outboxKey);
      if (response.ok && response.redirected) {
        localStorage.removeItem(draftKey);
        location.replace(response.url);
      } else {
        return response.text().then(function (html) { document.open(); document.write(html); document.close(); });
      }
    }).catch(function (error) {
      say(form.getAttribute(error.message === "busy" ? "data-busy" : "data-offline"));
      setTimeout(function () { send(body); }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  function answers() {  /* the form's answers as show_if sees them: strings, lists for checkboxes */
    var result = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.name.charAt(0) === "_") { return; }
      if (field.type === "checkbox") { result[field.name] = result[field.name] || []; if (field.checked) { result[field.name].push(field.value); } }
      else if (field.type === "radio") { if (field.checked) { result[field.name] = field.value; } }
      else if (field.value !== "") { result[field.name] = field.value; }
    });
    return result;
  }

  function applyShowIf() {
    if (!window.ShowIf) { return; }
    var current = answers();
    Array.prototype.forEach.call(form.querySelectorAll("[data-show-if]"), function (item) {
      try { item.hidden = !window.ShowIf.evaluate(item.getAttribute("data-show-if"), current); }
      catch (e) { item.hidden = false; }
    });
    applyChoiceFilters(current);
    /* a section whose every question is hidden shows no empty heading */
    Array.prototype.forEach.call(form.querySelectorAll("section[data-conditional]"), function (section) {
      section.classList.toggle("empty", !section.querySelector(".item:not([hidden])"));
    });
  }

  function applyChoiceFilters(current) {  /* cascading choices: hide (and untick) what the server would refuse */
    Array.prototype.forEach.call(form.querySelectorAll("[data-choice-filter]"), function (item) {
      var rules = JSON.parse(item.getAttribute("data-choice-filter"));
      Array.prototype.forEach.call(item.querySelectorAll("[data-filters]"), function (label) {
        var filters = JSON.parse(label.getAttribute("data-filters"));
        var offered = rules.every(function (rule) { return filters[rule.column] === current[rule.item]; });
        label.hidden = !offered;
        if (!offered) { label.querySelector("input").checked = false; }
      });
    });
  }

  /* --- checking a section before moving on: the server's "required" rule, one summary linking to the questions */
  function answered(item) {
    return Array.prototype.some.call(item.querySelectorAll("input,select,textarea"), function (field) {
      return field.type === "radio" || field.type === "checkbox" ? field.checked : field.value.trim() !== "";
    });
  }

  function firstField(item) { return item.querySelector("input,select,textarea"); }
  function labelOf(item) {
    var label = item.querySelector("legend,label");
    var text = label.cloneNode(true);
    Array.prototype.forEach.call(text.querySelectorAll(".req"), function (star) { star.remove(); });
    return text.textContent.trim();
  }

  function markError(item, message) {
    var id = firstField(item).id.replace(/-1$/, "") + "-error";
    if (!item.querySelector(".error")) {
      var error = document.createElement("p");
      error.className = "error"; error.id = id; error.textContent = message;
      item.appendChild(error);
    }
    item.classList.add("has-error");
    (item.querySelector("fieldset") || firstField(item)).setAttribute("aria-describedby", id);
  }

  function clearError(item) {
    var error = item.querySelector(".error");
    if (error) { error.remove(); }
    item.classList.remove("has-error");
    (item.querySelector("fieldset") || firstField(item)).removeAttribute("aria-describedby");
    var summary = document.getElementById("error-summary");
    if (!summary) { return; }
    var link = summary.querySelector('a[href="#' + firstField(item).id + '"]');
    if (link) { link.parentNode.remove(); }
    if (!summary.querySelector("li")) { summary.remove(); }
  }

  function showSummary(items) {
    var old = document.getElementById("error-summary");
    if (old) { old.remove(); }
    var summary = document.createElement("div");
    summary.className = "error-summary"; summary.id = "error-summary"; summary.tabIndex = -1;
    summary.setAttribute("role", "alert");
    var heading = document.createElement("h2");
    heading.textContent = form.getAttribute("data-summary");
    var list = document.createElement("ul");
    items.forEach(function (item) {
      var entry = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#" + firstField(item).id;
      link.textContent = labelOf(item) + ": " + item.querySelector(".error").textContent;
      entry.appendChild(link); list.appendChild(entry);
    });
    summary.appendChild(heading); summary.appendChild(list);
    form.parentNode.insertBefore(summary, form);
    focusSummary();
  }

  function focusSummary() {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); summary.scrollIntoView({ block: "start" }); }
  }

  /* the unanswered required questions among `items` are marked; true when there is none */
  function checkItems(items) {
    var missing = items.filter(function (item) {
      return item.hasAttribute("data-required") && !item.hidden && !answered(item);
    });
    missing.forEach(function (item) { markError(item, form.getAttribute("data-required")); });
    if (missing.length) { showSummary(missing); }
    return !missing.length;
  }

  function itemsOf(container) { return Array.prototype.slice.call(container.querySelectorAll(".item")); }

  var pager = null;  /* set by paginate(): {current: the shown section, showItem: function} */

  function paginate() {  /* layout "paged": one section at a time; without the script it is one long page */
    var sections = Array.prototype.slice.call(form.querySelectorAll("section"));
    var submit = form.querySelector("button[type=submit]:not(.part-next)");
    if (form.getAttribute("data-layout") !== "paged" || sections.length < 2) { return; }
    /* the server's own "Tiếp theo" (for pages without the script) gives way to the script's pager */
    Array.prototype.forEach.call(form.querySelectorAll(".part-next"), function (button) { button.remove(); });
    var firstError = form.querySelector(".has-error");
    var page = 0;
    sections.forEach(function (section, index) { if (!section.hidden && !page) { page = index; } });
    sections.forEach(function (section, index) {
      if (firstError && section.contains(firstError) && !page) { page = index; }
    });
    var nav = document.createElement("p");
    nav.className = "pager";
    var back = document.createElement("button");
    var next = document.createElement("button");
    back.type = next.type = "button";
    back.textContent = form.getAttribute("data-back");
    next.textContent = form.getAttribute("data-next");
    nav.appendChild(back); nav.appendChild(next);
    submit.parentNode.insertBefore(nav, submit);
    function step(from, direction) {  /* the next section that has a question to show */
      var index = from + direction;
      while (index > 0 && index < sections.length - 1 && sections[index].classList.contains("empty")) { index += direction; }
      return index;
    }
    function show(index, scroll) {
      page = Math.max(0, Math.min(sections.length - 1, index));
      sections.forEach(function (section, i) { section.hidden = i !== page; });
      back.hidden = page === 0;
      next.hidden = submit.hidden = false;
      if (page === sections.length - 1) { next.hidden = true; } else { submit.hidden = true; }
      if (scroll) { sections[page].querySelector(".progress,h2").scrollIntoView({ block: "start" }); }
    }
    back.addEventListener("click", function () { show(step(page, -1), true); });
    next.addEventListener("click", function () {
      if (checkItems(itemsOf(sections[page]))) {
        var summary = document.getElementById("error-summary");
        if (summary) { summary.remove(); }  /* the server's list, if any, named questions now answered or elsewhere */
        show(step(page, 1), true);
        var heading = sections[page].querySelector("h2");
        if (heading) { heading.tabIndex = -1; heading.focus(); }
      }
    });
    pager = {
      current: function () { return sections[page]; },
      showItem: function (item) { sections.forEach(function (s, i) { if (s.contains(item) && i !== page) { show(i, false); } }); }
    };
    show(page);
  }

  function followSummaryLink(event) {  /* to the question, on its page, with focus on its first answer */
    var link = event.target.closest && event.target.closest("#error-summary a[href^='#']");
    if (!link) { return; }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) { return; }
    event.preventDefault();
    var item = field.closest(".item");
    if (pager) { pager.showItem(item); }
    item.scrollIntoView({ block: "center" });
    field.focus({ preventScroll: true });
  }

  function clearAnswered(event) {
    var item = event.target.closest && event.target.closest(".item.has-error");
    if (item && answered(item)) { clearError(item); }
  }

  /* Label piping: a <span data-pipe="key"> shows the answer to `key` as its choice label or the text typed
     (the server rendered it from the answers it had; this keeps it live). textContent: never HTML. */
  function answerText(name) {
    var shown = [];
    Array.prototype.forEach.call(form.querySelectorAll('[name="' + name + '"]'), function (field) {
      if (field.type === "radio" || field.type === "checkbox") {
        var text = field.checked && field.closest("label") ? field.closest("label").textContent : "";
        if (text.trim()) { shown.push(text.trim().replace(/\s+/g, " ")); }
      } else if (field.tagName === "SELECT") {
        if (field.value) { shown.push(field.options[field.selectedIndex].text.trim()); }
      } else if (field.value.trim()) { shown.push(field.value.trim()); }
    });
    return shown.length ? shown.join(", ") : "\u2026";
  }
  function applyPiping() {
    Array.prototype.forEach.call(form.querySelectorAll("[data-pipe]"), function (span) {
      span.textContent = answerText(span.getAttribute("data-pipe"));
    });
  }

  var saved = read(draftKey);
  if (saved) { restore(saved); }
  applyShowIf();
  applyPiping();
  paginate();
  focusSummary();  /* the server found errors: the summary first, not the bottom of the page */
  document.addEventListener("click", followSummaryLink);
  form.addEventListener("input", function (event) { write(draftKey, pairs()); clearAnswered(event); applyPiping(); });
  form.addEventListener("change", function (event) { write(draftKey, pairs()); applyShowIf(); clearAnswered(event); });
  form.addEventListener("submit", function (event) {
    /* "Thêm một người/lượt": a plain post, the server answers with one more member block */
    if (event.submitter && event.submitter.name === "_more") { write(draftKey, pairs()); return; }
    event.preventDefault();
    if (!checkItems(itemsOf(pager ? pager.current() : form))) { return; }
    var body = pairs();
    if (window.KioskSend) { window.KioskSend(form, body); return; }  /* kiosk.js: its own queue, for hours offline */
    write(draftKey, body);
    write(outboxKey, body);
    send(body);
  });
  window.addEventListener("online", function () { retryDelay = 2000; });
  var pending = read(outboxKey);
  if (pending) { send(pending); }

  if (form.hasAttribute("data-kiosk")) {  /* a tablet on the counter: back to a blank start after 60 s idle */
    var idle;
    var reset = function () {
      clearTimeout(idle);
      idle = setTimeout(function () { localStorage.removeItem(draftKey); location.replace(location.href); }, 60000);
    };
    ["input", "change", "touchstart", "click"].forEach(function (name) { form.addEventListener(name, reset); });
    reset();
  }
}());
