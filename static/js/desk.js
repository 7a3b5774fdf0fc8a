// Promise Desk: tell the server the viewer's time zone, so times are shown in it from the next page on.
(function () {
  "use strict";
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    // IANA names (Europe/London, America/Argentina/Buenos_Aires) are cookie-safe as they are.
    if (zone && /^[A-Za-z0-9_+\/-]+$/.test(zone) && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + ";path=/;max-age=31536000;SameSite=Lax";
    }
  } catch (e) { /* older browsers: the site's zone is used */ }
})();

// A region marked data-pause-while-editing skips its htmx refresh while someone is typing in it or has one
// of its <details> forms open, so a refresh never wipes a half-written note.
document.addEventListener("htmx:beforeRequest", function (event) {
  "use strict";
  var region = event.detail.elt;
  if (!region || !region.hasAttribute || !region.hasAttribute("data-pause-while-editing")) { return; }
  var active = document.activeElement;
  var typing = active && region.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
  var paused = Boolean(typing || region.querySelector("details[open]"));
  if (paused) { event.preventDefault(); }
  var note = document.querySelector("[data-paused-note]");
  if (note) { note.hidden = !paused; }
});

// A field marked data-select-on-focus (the new API token) selects all of itself, ready to copy.
document.addEventListener("focusin", function (event) {
  if (event.target.hasAttribute && event.target.hasAttribute("data-select-on-focus")) { event.target.select(); }
});

// A button marked data-fill="#field" data-value="..." (the promise form's quick picks) puts its value in the
// field, and tells the field's listeners (the guard's live check) as if it had been typed.
document.addEventListener("click", function (event) {
  "use strict";
  var button = event.target.closest ? event.target.closest("[data-fill]") : null;
  var field = button && document.querySelector(button.getAttribute("data-fill"));
  if (!field) { return; }
  field.value = button.getAttribute("data-value");
  field.dispatchEvent(new Event("input", { bubbles: true }));
  field.focus();
});
