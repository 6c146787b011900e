/* The ticket reports' charts (Chart.js, vendored). The numbers come from the page's
 * json_script tag; the tables under each chart hold the same numbers. */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("ticket-reports-data");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var common = { responsive: true, maintainAspectRatio: false, animation: false };

    function canvas(id) {
      return document.getElementById(id);
    }

    if (canvas("chart-days")) {
      new window.Chart(canvas("chart-days"), {
        type: "line",
        data: {
          labels: data.days.labels,
          datasets: [
            { label: data.days.openedLabel, data: data.days.opened, borderColor: "#417690",
              backgroundColor: "#417690" },
            { label: data.days.resolvedLabel, data: data.days.resolved, borderColor: "#79aec8",
              backgroundColor: "#79aec8" }
          ]
        },
        options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } })
      });
    }
    ["department", "agent", "priority"].forEach(function (key) {
      if (!canvas("chart-" + key)) {
        return;
      }
      new window.Chart(canvas("chart-" + key), {
        type: "bar",
        data: {
          labels: data[key].labels,
          datasets: [
            { label: data.resolutionLabel, data: data[key].resolution, backgroundColor: "#417690" },
            { label: data.responseLabel, data: data[key].response,
              backgroundColor: "rgba(121, 174, 200, 0.6)" }
          ]
        },
        options: Object.assign({}, common, { scales: { y: { min: 0, max: 100 } } })
      });
    });
    if (canvas("chart-categories")) {
      new window.Chart(canvas("chart-categories"), {
        type: "bar",
        data: {
          labels: data.categories.labels,
          datasets: [{ label: data.categories.ticketsLabel, data: data.categories.tickets,
            backgroundColor: "#417690" }]
        },
        options: Object.assign({}, common, { indexAxis: "y", scales: { x: { beginAtZero: true } } })
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
