// The conversation filter on index.html. Without JavaScript the page lists everything.
(function () {
  var box = document.getElementById("filter");
  var items = document.querySelectorAll("#conversations li");
  if (!box) { return; }
  box.hidden = false;
  box.addEventListener("input", function () {
    var q = box.value.toLowerCase();
    for (var i = 0; i < items.length; i++) {
      var text = items[i].getAttribute("data-search") || "";
      items[i].style.display = text.indexOf(q) === -1 ? "none" : "";
    }
  });
})();
