// The proposal form's activity editor: add and remove rows, and check the form against the call's offer as it is
// typed (the server's own rules, POST /proposals/check). The form works without this script (its buttons then
// submit the form, which comes back edited); the script only saves the round trips.
(function () {
  "use strict";
  var form = document.getElementById("proposal-form");
  var list = document.getElementById("activities");
  var template = document.getElementById("activity-template");
  var status = document.getElementById("activity-check");
  if (!form || !list || !template) { return; }

  function rows() { return Array.prototype.slice.call(list.querySelectorAll("fieldset.activity")); }

  // a row's checkboxes carry its index ("<row>:<value>"): renumber after a row is added or removed
  function renumber() {
    rows().forEach(function (row, i) {
      row.dataset.row = String(i);
      row.querySelector(".row-number").textContent = String(i + 1);
      row.querySelectorAll("input[type=checkbox]").forEach(function (box) {
        box.value = i + ":" + box.value.split(":").slice(1).join(":");
      });
      row.querySelector(".remove-row").value = "remove:" + i;
    });
  }

  // without this script the editor's buttons submit the form, which comes back with the row added or removed
  document.getElementById("add-activity").addEventListener("click", function (ev) {
    ev.preventDefault();
    list.appendChild(template.content.firstElementChild.cloneNode(true));
    renumber();
    var first = list.lastElementChild.querySelector("input");
    if (first) { first.focus(); }
  });

  list.addEventListener("click", function (ev) {
    var button = ev.target.closest(".remove-row");
    if (!button) { return; }
    ev.preventDefault();
    button.closest("fieldset.activity").remove();
    if (rows().length === 0) { list.appendChild(template.content.firstElementChild.cloneNode(true)); }
    renumber();
    schedule();
  });

  function show(result) {
    rows().forEach(function (row, i) {
      var text = result.rows && result.rows[i];
      var p = row.querySelector(".row-problem");
      p.textContent = text || "";
      p.hidden = !text;
      row.classList.toggle("has-problem", Boolean(text));
    });
    status.classList.remove("ok", "bad", "muted");
    if (result.ok) {
      status.textContent = "Checked against the call: fits.";
      status.classList.add("ok");
    } else if (result.field === "activities" && result.rows && result.rows.some(Boolean)) {
      status.textContent = "Checked against the call: see the marked activities.";
      status.classList.add("bad");
    } else if (result.message) {
      status.textContent = "Checked against the call: " + (result.field && result.field !== "form" ? result.field + ": " : "") + result.message;
      status.classList.add("bad");
    } else {
      status.textContent = "Checked against the call: see the marked activities.";
      status.classList.add("bad");
    }
  }

  var timer = null, sent = 0;
  function check() {
    var mine = ++sent;
    fetch(form.dataset.check, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      headers: {"Accept": "application/json"}
    }).then(function (resp) {
      if (!resp.ok) { throw new Error(String(resp.status)); }
      return resp.json();
    }).then(function (result) {
      if (mine === sent) { show(result); }  // an older answer arriving late does not overwrite a newer one
    }).catch(function () {
      if (mine === sent) { status.textContent = "The check is not available right now; saving still checks."; }
    });
  }
  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(check, 400);
  }
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  if (rows().some(function (row) { return Array.prototype.some.call(row.querySelectorAll("input:not([type=checkbox])"), function (x) { return x.value; }); })) {
    check();
  }
})();
