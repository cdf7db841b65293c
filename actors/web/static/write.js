// The console's write form (a static file: the page policy allows no inline script).
// - Live preview: as the Markdown changes, POST it to the form's data-preview-url (the
//   CSRF token of <meta name="csrf-token"> in the X-CSRF-Token header) and show the HTML
//   the server answers (sanitized there, as on the public pages). Without this script the
//   form's "Preview" button does the same with a round trip.
// - Repetitions in words: when an event's start changes, the choices of "Repeats" name
//   its weekday and date ("Every month on the third Tuesday").
(function () {
  "use strict";
  var form = document.querySelector("form[data-preview-url]");
  if (!form) return;
  var token = document.querySelector('meta[name="csrf-token"]');

  var text = form.querySelector("textarea[data-preview]");
  var shown = text && document.getElementById(text.dataset.preview);
  if (text && shown && window.fetch) {
    var timer = null, sent = 0;
    var refresh = function () {
      var mine = ++sent;
      fetch(form.dataset.previewUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "X-CSRF-Token": token ? token.content : ""
        },
        body: new URLSearchParams({ markdown: text.value })
      }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        if (html !== null && mine === sent) shown.innerHTML = html;
      }).catch(function () { /* the Preview button still works */ });
    };
    text.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    });
    if (text.value) refresh();
  }

  var start = form.querySelector('input[name="start"]');
  var repeat = form.querySelector('select[name="repeat"]');
  if (!start || !repeat) return;
  var DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December"];
  var ORDINALS = ["first", "second", "third", "fourth", "fifth"];
  var generic = {};
  Array.prototype.forEach.call(repeat.options, function (o) { generic[o.value] = o.text; });
  var words = function () {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(start.value);
    if (!m) return null;
    var day = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    var weekday = DAYS[day.getUTCDay()], date = day.getUTCDate();
    return {
      daily: "Every day",
      weekly: "Every week on " + weekday,
      fortnightly: "Every 2 weeks on " + weekday,
      monthly_weekday: "Every month on the " + ORDINALS[Math.floor((date - 1) / 7)] + " " + weekday,
      monthly_last_weekday: "Every month on the last " + weekday,
      monthly_day: "Every month on day " + date,
      yearly: "Every year on " + date + " " + MONTHS[day.getUTCMonth()]
    };
  };
  var relabel = function () {
    var found = words();
    Array.prototype.forEach.call(repeat.options, function (o) {
      o.text = (found && found[o.value]) || generic[o.value];
    });
  };
  start.addEventListener("change", relabel);
  start.addEventListener("input", relabel);
})();
