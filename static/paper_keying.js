// The keying page without the mouse: Enter in an answer moves to the next answer (Tab does too, natively);
// Enter in the last answer sends the form. Without this script Enter sends the form at once, and the server
// checks it like any other entry.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-enter-next]");
  if (!form) return;
  var fields = Array.prototype.slice.call(form.querySelectorAll("input:not([type=hidden]), textarea"));
  fields.forEach(function (field, index) {
    field.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
      event.preventDefault();
      if (index + 1 < fields.length) fields[index + 1].focus();
      else form.requestSubmit ? form.requestSubmit() : form.submit();
    });
  });
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
});
