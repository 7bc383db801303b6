/* netlab packet inspector: a click on an arrow of a ladder diagram or on the number of a
   packet table row (or Enter on it, since each is a link) opens that segment's entry in the
   inspector (below the view, or below the first view of the page that shows the same segment:
   a page carries one entry per segment), and a second click closes it. Without this script the links
   still work: the browser jumps to the entry and opens it (netlab.views.inspector). A link from
   elsewhere to page.html#<entry id> opens that segment's entry too. */
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
  // A decoded field and its bytes: pointing at (or focusing) a field, or a layer's name,
  // lights up its bytes in the hex dump; pointing at a byte lights up the narrowest field that
  // holds it. The dump is plain text on the page (light to carry); its bytes become elements
  // here, the first time they are needed.
  function bytesOf(body) {
    var pre = body.querySelector("pre.netlab-bytes");
    if (pre && !pre.dataset.split) {
      pre.dataset.split = "1";
      var esc = function (c) {
        return c.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
      };
      pre.innerHTML = pre.textContent.split("\n").map(function (line) {
        var m = line.match(/^([0-9a-f]{4})  (.{47})  (.*)$/);
        if (!m) return esc(line);
        var off = parseInt(m[1], 16), hex = m[2].split(" "), out = [];
        hex.forEach(function (h, i) {
          out.push(h.trim() ? '<span data-i="' + (off + i) + '">' + h + "</span>" : h);
        });
        var text = Array.prototype.map.call(m[3], function (c, i) {
          return '<span data-i="' + (off + i) + '">' + esc(c) + "</span>";
        }).join("");
        return m[1] + "  " + out.join(" ") + "  " + text;
      }).join("\n");
    }
    return pre;
  }
  function light(body, field, from, to) {
    var pre = bytesOf(body);
    if (!pre) return;
    pre.querySelectorAll("[data-i]").forEach(function (b) {
      var i = parseInt(b.dataset.i, 10);
      b.classList.toggle("netlab-lit", i >= from && i < to);
    });
    body.querySelectorAll("table.netlab-fields .netlab-lit").forEach(function (f) {
      f.classList.remove("netlab-lit");
    });
    if (field) field.classList.add("netlab-lit");
  }
  function span(field) {
    var p = field.dataset.bytes.split("-");
    return [parseInt(p[0], 10), parseInt(p[1], 10)];
  }
  function point(event) {
    var t = event.target;
    if (!t.closest) return;
    var body = t.closest(".netlab-packet-body");
    if (!body) return;
    var field = t.closest("table.netlab-fields [data-bytes]");
    if (field) {
      var s = span(field);
      light(body, field, s[0], s[1]);
      return;
    }
    var b = t.closest("pre.netlab-bytes [data-i]");
    if (!b) {
      light(body, null, 0, 0);
      return;
    }
    var i = parseInt(b.dataset.i, 10), best = null, size = Infinity;
    body.querySelectorAll("table.netlab-fields [data-bytes]").forEach(function (f) {
      var s2 = span(f);
      if (s2[0] <= i && i < s2[1] && s2[1] - s2[0] < size) {
        best = f;
        size = s2[1] - s2[0];
      }
    });
    if (best) {
      var s3 = span(best);
      light(body, best, s3[0], s3[1]);
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
  // The page carries each entry compactly (netlab.views.inspector): a row's fields as plain
  // text with their bytes listed once (data-f), and the hex dump as the bytes alone, sixteen
  // to a line in hex without spaces. Here each
  // field becomes an element that knows its bytes and takes the focus, and each line of the
  // dump gets its offset and its bytes as text, as Wireshark shows them.
  function fields(td) {
    var tokens = td.getAttribute("data-f").split(" "), parts = [];
    td.removeAttribute("data-f");
    td.textContent.split(", ").forEach(function (piece) {
      if (parts.length && !/^[^\s,:]+: /.test(piece)) parts[parts.length - 1] += ", " + piece;
      else parts.push(piece);
    });
    if (parts.length !== tokens.length) return;
    var th = td.parentNode.querySelector("th[data-bytes]");
    var at = th ? parseInt(th.dataset.bytes.split("-")[0], 10) : 0;
    td.textContent = "";
    parts.forEach(function (text, i) {
      if (i) td.appendChild(document.createTextNode(", "));
      var t = tokens[i];
      if (t === "-") {
        td.appendChild(document.createTextNode(text));
        return;
      }
      var p = t.split("-"), from = p.length > 1 ? parseInt(p[0], 10) : at;
      at = parseInt(p[p.length - 1], 10);
      var field = document.createElement("span");
      field.dataset.bytes = from + "-" + at;
      field.tabIndex = 0;
      field.textContent = text;
      td.appendChild(field);
    });
  }
  function dump(pre) {
    var off = 0;
    pre.textContent = pre.textContent.split("\n").map(function (line) {
      if (!/^([0-9a-f]{2}){1,16}$/.test(line)) return line;
      var hex = line.match(/../g), text = hex.map(function (h) {
        var c = parseInt(h, 16);
        return c >= 32 && c < 127 ? String.fromCharCode(c) : ".";
      }).join("");
      var out = ("000" + off.toString(16)).slice(-4) + "  " +
        (hex.join(" ") + new Array(49 - 3 * hex.length).join(" ")) + "  " + text;
      off += hex.length;
      return out;
    }).join("\n");
  }
  function compact() {
    document.querySelectorAll("table.netlab-fields td[data-f]").forEach(fields);
    document.querySelectorAll("pre.netlab-bytes").forEach(function (pre) {
      if (!/^[0-9a-f]{4}  /.test(pre.textContent)) dump(pre);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", compact);
  else compact();
  // A deep link to a segment (page.html#<its entry's id>) opens its entry, and the inspector
  // around it, when the page loads and whenever the address's fragment changes.
  function openFromHash() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var body = id ? document.getElementById(id) : null;
    var entry = body ? body.closest("details.netlab-packet") : null;
    if (!entry) return;
    for (var d = entry; d; d = d.parentElement ? d.parentElement.closest("details") : null) {
      d.open = true;
    }
    document.querySelectorAll("details.netlab-packet.netlab-current").forEach(function (e) {
      e.classList.remove("netlab-current");
    });
    entry.classList.add("netlab-current");
    entry.scrollIntoView({ block: "start" });
  }
  window.addEventListener("hashchange", openFromHash);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", openFromHash);
  } else {
    openFromHash();
  }
})();
