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
