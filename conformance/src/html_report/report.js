// Filters the case table by category and status; a case's detail row follows its case.
(function () {
  var category = document.getElementById("category");
  var status = document.getElementById("status");
  var shown = document.getElementById("shown");
  var rows = document.querySelectorAll("#cases tbody tr");
  function apply() {
    var count = 0, total = 0;
    rows.forEach(function (row) {
      var visible = (!category.value || row.dataset.category === category.value) &&
        (!status.value || row.dataset.status === status.value);
      row.hidden = !visible;
      if (row.classList.contains("case")) {
        total += 1;
        if (visible) count += 1;
      }
    });
    shown.textContent = count + " of " + total + " cases shown";
  }
  category.addEventListener("change", apply);
  status.addEventListener("change", apply);
  apply();
})();
