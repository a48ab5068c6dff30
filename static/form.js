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
      if (!values || field.type === "submit") { return; }
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
  }

  function paginate() {  /* layout "paged": one section at a time; without the script it is one long page */
    var sections = form.querySelectorAll("section");
    var submit = form.querySelector("button[type=submit]");
    if (form.getAttribute("data-layout") !== "paged" || sections.length < 2) { return; }
    var firstError = form.querySelector(".has-error");
    var page = 0;
    Array.prototype.forEach.call(sections, function (section, index) {
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
    function show(index) {
      page = Math.max(0, Math.min(sections.length - 1, index));
      Array.prototype.forEach.call(sections, function (section, i) { section.hidden = i !== page; });
      back.hidden = page === 0;
      next.hidden = submit.hidden = false;
      if (page === sections.length - 1) { next.hidden = true; } else { submit.hidden = true; }
      window.scrollTo(0, 0);
    }
    back.addEventListener("click", function () { show(page - 1); });
    next.addEventListener("click", function () { show(page + 1); });
    show(page);
  }

  var saved = read(draftKey);
  if (saved) { restore(saved); }
  applyShowIf();
  paginate();
  form.addEventListener("input", function () { write(draftKey, pairs()); });
  form.addEventListener("change", function () { write(draftKey, pairs()); applyShowIf(); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = pairs();
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
