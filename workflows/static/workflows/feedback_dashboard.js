/* The feedback dashboard's charts (Chart.js, vendored). The numbers come from the page's
 * json_script tag; the tables next to each chart hold the same numbers for those who cannot
 * see the chart or run scripts. */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("feedback-dashboard-data");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var common = { responsive: true, maintainAspectRatio: false, animation: false };

    function canvas(id) {
      return document.getElementById(id);
    }

    if (canvas("chart-nps")) {
      new window.Chart(canvas("chart-nps"), {
        data: {
          labels: data.nps.labels,
          datasets: [
            { type: "line", label: data.nps.npsLabel, data: data.nps.nps, yAxisID: "nps",
              spanGaps: true, borderColor: "#417690", backgroundColor: "#417690" },
            { type: "bar", label: data.nps.answersLabel, data: data.nps.answers,
              yAxisID: "answers", backgroundColor: "rgba(121, 174, 200, 0.4)" }
          ]
        },
        options: Object.assign({}, common, {
          scales: {
            nps: { position: "left", min: -100, max: 100 },
            answers: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } }
          }
        })
      });
    }
    if (canvas("chart-csat")) {
      new window.Chart(canvas("chart-csat"), {
        type: "bar",
        data: {
          labels: data.csat.labels,
          datasets: [
            { label: data.csat.averageLabel, data: data.csat.average, yAxisID: "average",
              backgroundColor: "#417690" },
            { label: data.csat.satisfiedLabel, data: data.csat.satisfied, yAxisID: "share",
              backgroundColor: "rgba(121, 174, 200, 0.6)" }
          ]
        },
        options: Object.assign({}, common, {
          scales: {
            average: { position: "left", min: 0, max: 5 },
            share: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } }
          }
        })
      });
    }
    if (canvas("chart-topics")) {
      new window.Chart(canvas("chart-topics"), {
        type: "bar",
        data: {
          labels: data.topics.labels,
          datasets: [{ label: data.topics.shareLabel, data: data.topics.share,
            backgroundColor: "#417690" }]
        },
        options: Object.assign({}, common, { indexAxis: "y", scales: { x: { beginAtZero: true } } })
      });
    }
    if (canvas("chart-negative")) {
      new window.Chart(canvas("chart-negative"), {
        type: "bar",
        data: {
          labels: data.negative.labels,
          datasets: [{ label: data.negative.negativeLabel, data: data.negative.negative,
            backgroundColor: "#ba2121" }]
        },
        options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } })
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
