/* Pages of long work (an export, a print run, quality flags, a weighting run, a report being built) mark the part
   that changes with data-refresh="seconds". This script reads the page again every so often and swaps that part in
   place, announced politely to screen readers, until the server's copy no longer carries data-refresh. Nothing is
   reloaded under the user's hands: focus, scrolling and what was typed stay. (A <meta http-equiv="refresh">
   reloaded the whole page every few seconds: axe-core's meta-refresh rule, WCAG 2.2.1.) When the work is done
   elsewhere (the page's other parts, or the report itself), the part becomes its data-done text as a link that
   reloads the page; with data-open (a report asked for) the page also opens it once, as the user asked. Without
   JavaScript the part's own link updates it by hand. */
(function () {
  "use strict";
  var region = document.querySelector("[data-refresh][id]");
  if (!region || !window.fetch || !window.DOMParser) return;
  var seconds = Math.max(1, Number(region.getAttribute("data-refresh")) || 2);
  region.setAttribute("aria-live", "polite");

  function finish(fresh) {  // the server's last copy of the part, or (none: the result is elsewhere) a reload link
    region.removeAttribute("data-refresh");
    var note = region.getAttribute("data-done");
    if (fresh || !note) {
      if (fresh) region.innerHTML = fresh.innerHTML;
      return;
    }
    var paragraph = document.createElement("p"), link = document.createElement("a");
    link.href = location.href;
    link.textContent = note;
    paragraph.appendChild(link);
    region.replaceChildren(paragraph);
    if (region.hasAttribute("data-open")) location.reload();  // what was asked for (a report): open it, once
  }

  function later(factor) {
    setTimeout(read, seconds * 1000 * factor);
  }

  function read() {
    fetch(location.href, {credentials: "same-origin", cache: "no-store"}).then(function (response) {
      var type = response.headers.get("content-type") || "";
      if (response.status >= 500 || response.status === 429) return later(3);  // busy or restarting: later
      if (!response.ok) return region.removeAttribute("data-refresh");  // gone (signed out, removed): stop
      if (type.indexOf("text/html") !== 0) {  // the work's own result (a PDF report, say): it is ready
        if (response.body) response.body.cancel();
        return finish(null);
      }
      return response.text().then(function (text) {
        var fresh = new DOMParser().parseFromString(text, "text/html").getElementById(region.id);
        if (fresh && fresh.hasAttribute("data-refresh")) {
          region.innerHTML = fresh.innerHTML;
          later(1);
        } else {
          finish(fresh);
        }
      });
    }).catch(function () { later(3); });
  }

  later(1);
})();
