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
      if (response.status >= 500 || response.status === 429) { throw new Error("retry"); }
      localStorage.removeItem(outboxKey);
      if (response.ok && response.redirected) {
        localStorage.removeItem(draftKey);
        location.replace(response.url);
      } else {
        return response.text().then(function (html) { document.open(); document.write(html); document.close(); });
      }
    }).catch(function () {
      say(form.getAttribute("data-offline"));
      setTimeout(function () { send(body); }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  var saved = read(draftKey);
  if (saved) { restore(saved); }
  form.addEventListener("input", function () { write(draftKey, pairs()); });
  form.addEventListener("change", function () { write(draftKey, pairs()); });
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
