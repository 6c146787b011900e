/* The supervisors' KPI page's charts (Chart.js, vendored). The numbers come from the page's
 * json_script tag; the tables next to each chart hold the same numbers. */
(function () {
  "use strict";

  var palette = ["#417690", "#79aec8", "#ba2121", "#5b80b2", "#ffc107", "#28a745", "#6f42c1",
    "#fd7e14", "#20c997", "#6c757d", "#e83e8c", "#17a2b8"];

  function draw() {
    var source = document.getElementById("kpis-data");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var common = { responsive: true, maintainAspectRatio: false, animation: false };

    function canvas(id) {
      return document.getElementById(id);
    }

    if (canvas("chart-cohorts")) {
      new window.Chart(canvas("chart-cohorts"), {
        type: "line",
        data: {
          labels: data.cohorts.labels,
          datasets: data.cohorts.series.map(function (series, index) {
            var colour = palette[index % palette.length];
            return { label: series.label, data: series.shares, borderColor: colour,
              backgroundColor: colour, spanGaps: false };
          })
        },
        options: Object.assign({}, common, { scales: { y: { min: 0, max: 100 } } })
      });
    }
    if (canvas("chart-tiers")) {
      new window.Chart(canvas("chart-tiers"), {
        type: "bar",
        data: {
          labels: data.tiers.labels,
          datasets: [{ label: data.tiers.membersLabel, data: data.tiers.members,
            backgroundColor: "#417690" }]
        },
        options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } })
      });
    }
    if (canvas("chart-movement")) {
      new window.Chart(canvas("chart-movement"), {
        type: "bar",
        data: {
          labels: data.movement.labels,
          datasets: [
            { label: data.movement.upLabel, data: data.movement.up, backgroundColor: "#28a745" },
            { label: data.movement.downLabel, data: data.movement.down, backgroundColor: "#ba2121" },
            { label: data.movement.joinedLabel, data: data.movement.joined,
              backgroundColor: "rgba(121, 174, 200, 0.6)" }
          ]
        },
        options: Object.assign({}, common, { scales: { x: { stacked: true }, y: { stacked: true } } })
      });
    }
    if (canvas("chart-sla")) {
      new window.Chart(canvas("chart-sla"), {
        type: "bar",
        data: {
          labels: data.sla.labels,
          datasets: [
            { label: data.sla.resolutionLabel, data: data.sla.resolution, backgroundColor: "#417690" },
            { label: data.sla.responseLabel, data: data.sla.response,
              backgroundColor: "rgba(121, 174, 200, 0.6)" }
          ]
        },
        options: Object.assign({}, common, { scales: { y: { min: 0, max: 100 } } })
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
