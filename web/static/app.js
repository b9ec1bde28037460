// Repeatable blocks of the permit form: add or remove a location, add a shoot day. Field names are the API's
// paths (locations[1].days[0].date); the server renumbers what is left after a removal.
(function () {
  "use strict";
  function nextIndex(container, selector, attribute) {
    var max = -1;
    container.querySelectorAll(selector).forEach(function (node) {
      var n = parseInt(node.getAttribute(attribute), 10);
      if (!isNaN(n) && n > max) { max = n; }
    });
    return max + 1;
  }
  function fromTemplate(id, replacements) {
    var html = document.getElementById(id).innerHTML;
    Object.keys(replacements).forEach(function (key) { html = html.split(key).join(String(replacements[key])); });
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    return holder.firstElementChild;
  }
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    if (target.matches("[data-add-location]")) {
      var list = document.getElementById("locations");
      var i = nextIndex(list, ".location", "data-index");
      var block = fromTemplate("location-template", { "__L__": i });
      block.querySelectorAll(".day").forEach(function (day) { day.setAttribute("data-day", "0"); });
      block.querySelector(".n").textContent = String(list.querySelectorAll(".location").length + 1);
      list.appendChild(block);
    } else if (target.matches("[data-add-day]")) {
      var location = target.closest(".location");
      var days = location.querySelector(".days");
      var j = nextIndex(days, ".day", "data-day");
      days.appendChild(fromTemplate("day-template", { "__L__": location.getAttribute("data-index"), "__D__": j }));
    } else if (target.matches("[data-remove-location]")) {
      var all = document.querySelectorAll("#locations .location");
      if (all.length > 1) { target.closest(".location").remove(); }
    }
  });
})();
