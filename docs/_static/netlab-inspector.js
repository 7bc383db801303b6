/* netlab packet inspector: a click on an arrow of a ladder diagram or on the number of a
   packet table row (or Enter on it, since each is a link) opens that segment's entry in the
   inspector (below the view, or below the first view of the page that shows the same segment:
   a page carries one entry per segment), and a second click closes it. Without this script the links
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
})();
