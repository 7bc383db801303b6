/* netlab exercises (netlab.views.exercise): the reader types a number or picks an option, and
   this script checks it against the value this build measured, which the form carries, without
   any request. The form is hidden until this script shows it, so without JavaScript the page
   keeps only the answer's disclosure. */
(function () {
  "use strict";
  function parse(text) {
    var t = text.replace(/[\s,，]/g, "").replace(/[．。]/g, ".").replace(/[−–]/g, "-");
    var m = t.match(/^-?\d+(\.\d+)?/);
    return m ? parseFloat(m[0]) : NaN;
  }
  function check(form) {
    var verdict = form.querySelector(".netlab-verdict");
    var answer = parseFloat(form.dataset.answer);
    var ok, given;
    if (form.dataset.kind === "number") {
      given = parse(form.querySelector("input").value);
      ok = Math.abs(given - answer) <= parseFloat(form.dataset.tolerance || "0") + 1e-9;
    } else {
      var picked = form.querySelector("input:checked");
      given = picked ? parseFloat(picked.value) : NaN;
      ok = given === answer;
    }
    form.classList.remove("netlab-right", "netlab-wrong");
    if (isNaN(given)) {
      verdict.textContent = form.dataset.empty;
      return;
    }
    form.classList.add(ok ? "netlab-right" : "netlab-wrong");
    verdict.textContent = ok ? form.dataset.right : form.dataset.wrong;
  }
  function init() {
    document.querySelectorAll("form.netlab-quiz").forEach(function (form) {
      form.hidden = false;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        check(form);
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
