/* netlab packet inspector: a click on an arrow of a ladder diagram or on the number of a
   packet table row (or Enter on it, since each is a link) opens that segment's entry in the
   inspector below the view, and a second click closes it. Without this script the links
   still work: the browser jumps to the entry and opens it (netlab.views.inspector). */
(function () {
  "use strict";
  function entryFor(link) {
    var href = link.getAttribute("href") || "";
    if (href.charAt(0) !== "#") return null;
    var body = document.getElementById(href.slice(1));
    return body ? body.closest("details.netlab-packet") : null;
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.netlab-inspect");
    if (!link && event.target.closest) {
      // an arrow's words sit beside its link, in a label that names the same entry
      var label = event.target.closest("g.netlab-label[data-for]");
      var svg = label && label.closest("svg");
      link = svg && svg.querySelector('a.netlab-inspect[href="#' +
                                      label.getAttribute("data-for") + '"]');
    }
    if (!link) return;
    var entry = entryFor(link);
    if (!entry) return;
    event.preventDefault();
    var open = !entry.open;
    entry.open = open;
    var all = entry.closest("details.netlab-inspector");
    if (all && open) all.open = true;
    document.querySelectorAll("details.netlab-packet.netlab-current").forEach(function (d) {
      d.classList.remove("netlab-current");
    });
    if (open) {
      entry.classList.add("netlab-current");
      entry.scrollIntoView({ block: "nearest" });
    }
    link.setAttribute("aria-expanded", String(open));
  });
  // A decoded field and its bytes: pointing at (or focusing) a field's row lights up its
  // bytes in the hex dump; pointing at a byte lights up the narrowest field that holds it.
  function light(body, row, from, to) {
    body.querySelectorAll("pre.netlab-bytes [data-i]").forEach(function (b) {
      var i = parseInt(b.dataset.i, 10);
      b.classList.toggle("netlab-lit", i >= from && i < to);
    });
    body.querySelectorAll("tr.netlab-lit").forEach(function (r) {
      r.classList.remove("netlab-lit");
    });
    if (row) row.classList.add("netlab-lit");
  }
  function span(row) {
    var p = row.dataset.bytes.split("-");
    return [parseInt(p[0], 10), parseInt(p[1], 10)];
  }
  function point(event) {
    var t = event.target;
    if (!t.closest) return;
    var body = t.closest(".netlab-packet-body");
    if (!body) return;
    var row = t.closest("tr[data-bytes]");
    if (row) {
      var s = span(row);
      light(body, row, s[0], s[1]);
      return;
    }
    var b = t.closest("pre.netlab-bytes [data-i]");
    if (!b) {
      light(body, null, 0, 0);
      return;
    }
    var i = parseInt(b.dataset.i, 10), best = null, size = Infinity;
    body.querySelectorAll("tr[data-bytes]").forEach(function (r) {
      var s = span(r);
      if (s[0] <= i && i < s[1] && s[1] - s[0] < size) {
        best = r;
        size = s[1] - s[0];
      }
    });
    if (best) {
      var s2 = span(best);
      light(body, best, s2[0], s2[1]);
    }
  }
  // On paper nothing can be clicked: every entry and every answer prints open.
  var closed = [];
  window.addEventListener("beforeprint", function () {
    closed = Array.prototype.filter.call(document.querySelectorAll(
      "details.netlab-inspector, details.netlab-packet, details.netlab-answer"),
      function (d) { return !d.open; });
    closed.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    closed.forEach(function (d) { d.open = false; });
    closed = [];
  });
  document.addEventListener("mouseover", point);
  document.addEventListener("focusin", point);
})();
