/* Kiosk mode of the counter form (a tablet at the counter, /q/<token>?kiosk=1): the form keeps working while the
   counter's Wi-Fi is down. One file, two roles:
   - in the page: registers the service worker, sends an answer at once when it can, otherwise keeps it in an
     IndexedDB queue (with its idempotency key) and shows the thank-you state; shows "N câu trả lời đang chờ gửi"
     and sends the queue on load, on the `online` event and every 20 s;
   - as the service worker (served at /kiosk/sw.js, scope /q/): serves the kiosk page and its files from its cache
     when the network fails, and sends the queue on a Background Sync event where the browser has them.
   The server stores a key once (a resend is acknowledged as a replay), so page and worker may both send. */
(function () {
  "use strict";
  var CACHE = "kiosk-v1";
  var SYNC_TAG = "kiosk-answers";
  var RETRY_EVERY = 20000;
  var SEND_TIMEOUT = 15000;  /* a queued answer; the person at the counter waits at most ASK_TIMEOUT */
  var ASK_TIMEOUT = 6000;

  /* --- the queue: one record per answer, {key, url, body}; nothing else about the person */
  function openQueue() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("kiosk", 1);
      request.onupgradeneeded = function () { request.result.createObjectStore("answers", { keyPath: "key" }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function inQueue(mode, work) {  /* runs work(store) in one transaction; resolves with its request's result */
    return openQueue().then(function (database) {
      return new Promise(function (resolve, reject) {
        var transaction = database.transaction("answers", mode);
        var request = work(transaction.objectStore("answers"));
        transaction.oncomplete = function () { database.close(); resolve(request.result); };
        transaction.onerror = transaction.onabort = function () { database.close(); reject(transaction.error); };
      });
    });
  }

  function queued() { return inQueue("readonly", function (store) { return store.getAll(); }); }
  function enqueue(record) { return inQueue("readwrite", function (store) { return store.put(record); }); }
  function dequeue(key) { return inQueue("readwrite", function (store) { return store.delete(key); }); }

  /* --- sending one answer: "stored" when the server's thank-you page answered (a replay included), "refused" for
     a final no (closed campaign, invalid answer, dossier already rated), "retry" for no network or a busy server */
  function post(record, timeout) {
    var abort = new AbortController();
    var timer = setTimeout(function () { abort.abort(); }, timeout || SEND_TIMEOUT);
    return fetch(record.url, {
      method: "POST", body: record.body, credentials: "same-origin", signal: abort.signal,
      headers: { "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (response) {
      clearTimeout(timer);
      return { outcome: outcome(record, response), response: response };
    }, function () {
      clearTimeout(timer);
      return { outcome: "retry" };
    });
  }

  function outcome(record, response) {
    var thanks = new URL(record.url).pathname + "/thanks";
    if (response.redirected && new URL(response.url).pathname === thanks) { return "stored"; }
    var final = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
    return final ? "refused" : "retry";  /* a captive portal's 200 is no acknowledgement: kept and sent again */
  }

  function sendQueue() {  /* in order, stopping at the first that cannot go; resolves with how many wait */
    return queued().then(function (records) {
      return records.reduce(function (chain, record) {
        return chain.then(function (goOn) {
          if (!goOn) { return false; }
          return post(record).then(function (sent) {
            return sent.outcome === "retry" ? false : dequeue(record.key).then(function () { return true; });
          });
        });
      }, Promise.resolve(true));
    }).then(function () { return queued(); }).then(function (records) { return records.length; });
  }

  function flush() {  /* one sender at a time across the page and the worker, where the browser has Web Locks */
    var locks = self.navigator && self.navigator.locks;
    if (!locks) { return sendQueue(); }
    return locks.request("kiosk-queue", { ifAvailable: true }, function (lock) {
      return lock ? sendQueue() : null;
    });
  }

  if (typeof window === "undefined") { worker(); } else { page(); }

  /* --- the service worker ------------------------------------------------------------------------------------ */
  function worker() {
    self.addEventListener("install", function () { self.skipWaiting(); });
    self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });
    self.addEventListener("fetch", function (event) {
      var request = event.request;
      var url = new URL(request.url);
      if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
      if (url.pathname.indexOf("/s/") === 0) { event.respondWith(cacheFirst(request)); }
      else if (request.mode === "navigate" && url.searchParams.get("kiosk") === "1") {
        event.respondWith(networkFirst(event));
      }
    });
    self.addEventListener("sync", function (event) {
      if (event.tag !== SYNC_TAG) { return; }
      event.waitUntil(flush().then(function (waiting) {
        tellPages();
        if (waiting) { throw new Error("still offline"); }  /* the browser tries the sync again later */
      }));
    });
  }

  function cacheFirst(request) {  /* fingerprinted files never change behind one address */
    return caches.match(request).then(function (cached) {
      return cached || fetch(request).then(function (response) {
        if (response.ok) { var copy = response.clone(); caches.open(CACHE).then(function (cache) { cache.put(request, copy); }); }
        return response;
      });
    });
  }

  function networkFirst(event) {  /* the page fresh when the network answers within 4 s, else the cached copy */
    var request = event.request;
    var fromNetwork = fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.put(request, copy); }));
      }
      return response;
    });
    var late = new Promise(function (resolve, reject) { setTimeout(function () { reject(new Error("slow")); }, 4000); });
    return Promise.race([fromNetwork, late]).catch(function () {
      return caches.match(request).then(function (cached) {  /* else the same form in another language */
        return cached || caches.match(request, { ignoreSearch: true }).then(function (other) { return other || fromNetwork; });
      });
    });
  }

  function tellPages() {
    self.clients.matchAll().then(function (pages) {
      pages.forEach(function (client) { client.postMessage("kiosk-queue"); });
    });
  }

  /* --- the page ---------------------------------------------------------------------------------------------- */
  function page() {
    var form = document.querySelector("form[data-kiosk]");
    var counter = document.getElementById("kiosk-queue");
    if (form) { form.elements._key.value = newKey(); }  /* a cached page carries an old key: one per citizen */
    window.KioskSend = function (formElement, pairs) { submit(formElement, pairs); };
    startWorker();
    function retry() { flush().then(show, show); }
    window.addEventListener("online", retry);
    setInterval(retry, RETRY_EVERY);
    retry();

    function show() {
      return queued().then(function (records) {
        var waiting = records.length;
        counter.setAttribute("data-count", String(waiting));
        counter.textContent = counter.getAttribute("data-template").replace("{n}", waiting);
        counter.hidden = waiting === 0;
      });
    }

    function submit(formElement, pairs) {
      var record = { key: formElement.elements._key.value, url: formElement.action,
                     body: new URLSearchParams(pairs).toString() };
      localStorage.removeItem("draft:" + formElement.getAttribute("action"));
      var status = document.getElementById("send-status");
      status.textContent = formElement.getAttribute("data-sending");
      status.hidden = false;
      var sending = navigator.onLine ? post(record, ASK_TIMEOUT) : Promise.resolve({ outcome: "retry" });
      sending.then(function (sent) {
        if (sent.outcome === "stored") { location.replace(sent.response.url); return; }
        if (sent.outcome === "refused") {  /* the server's page says why (an invalid answer, a closed campaign) */
          sent.response.text().then(function (html) { document.open(); document.write(html); document.close(); });
          return;
        }
        status.hidden = true;
        enqueue(record).then(function () { askForSync(); show(); thank(formElement); });
      });
    }

    function askForSync() {
      if (!("serviceWorker" in navigator)) { return; }
      navigator.serviceWorker.ready.then(function (registration) {
        if (registration.sync) { return registration.sync.register(SYNC_TAG); }
      }).catch(function () { /* no Background Sync: the timer and the online event send the queue */ });
    }

    function startWorker() {
      if (!("serviceWorker" in navigator)) { return; }  /* only https or localhost have service workers */
      navigator.serviceWorker.addEventListener("message", show);
      navigator.serviceWorker.register("/kiosk/sw.js", { scope: "/q/" }).then(keepForOffline, function () {});
    }

    function keepForOffline() {  /* this page and its files, also when the worker did not yet control the load */
      if (!form || !navigator.onLine) { return; }
      var files = Array.prototype.map.call(document.querySelectorAll("script[src]"), function (script) { return script.src; });
      caches.open(CACHE).then(function (cache) {
        return cache.addAll([location.href].concat(files)).then(function () { return cache.keys(); })
          .then(function (requests) {  /* an earlier release's files are no longer needed */
            requests.forEach(function (request) {
              if (request.url.indexOf("/s/") > 0 && files.indexOf(request.url) < 0) { cache.delete(request); }
            });
          });
      }).catch(function () { /* the network went while caching: the next load tries again */ });
    }

    function thank(formElement) {  /* the answer waits on this tablet: thank the person, then a blank form */
      var thanks = document.getElementById("kiosk-thanks");
      formElement.hidden = true;
      thanks.hidden = false;
      thanks.focus();
      var timer;
      var next = function () {
        clearTimeout(timer);
        if (navigator.onLine || navigator.serviceWorker && navigator.serviceWorker.controller) {
          location.replace(formElement.getAttribute("data-kiosk-start"));  /* offline: from the worker's cache */
        } else {  /* no service worker (plain http): a blank form in place */
          formElement.reset();
          formElement.elements._key.value = newKey();
          formElement.hidden = false;
          thanks.hidden = true;
          window.scrollTo(0, 0);
        }
      };
      document.getElementById("kiosk-next").onclick = next;
      timer = setTimeout(next, 8000);
    }
  }

  function newKey() {
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (byte) { return (byte + 256).toString(16).slice(1); }).join("");
  }
}());
