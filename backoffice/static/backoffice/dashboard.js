/* The admin dashboard's charts: data from the page's json_script, drawn with vendored Chart.js. */
(function () {
    "use strict";
    var source = document.getElementById("dashboard-chart-data");
    if (!source || typeof window.Chart === "undefined") {
        return;
    }
    var data = JSON.parse(source.textContent);
    var labels = data.days.map(function (day) { return day.slice(5); });
    var dark = document.documentElement.getAttribute("data-bs-theme") === "dark";
    var ink = dark ? "#e9ecef" : "#212529";
    var grid = dark ? "rgba(255,255,255,0.12)" : "rgba(0,0,0,0.08)";
    Chart.defaults.color = ink;
    Chart.defaults.borderColor = grid;
    Chart.defaults.animation = false;
    var common = {
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } }
    };

    var orders = document.getElementById("dashboard-chart-orders");
    if (orders && data.orders) {
        var colours = {
            completed: "#198754",
            partial: "#b35c00",
            failed: "#c0392b",
            cancelled: "#6c757d"
        };
        new Chart(orders, {
            type: "bar",
            data: {
                labels: labels,
                datasets: Object.keys(colours).map(function (status) {
                    return {
                        label: data.labels[status],
                        data: data.orders[status],
                        backgroundColor: colours[status],
                        stack: "orders"
                    };
                })
            },
            options: Object.assign({}, common, {
                scales: {
                    x: { stacked: true },
                    y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }
                }
            })
        });
    }

    var money = document.getElementById("dashboard-chart-money");
    if (money && data.money) {
        var yuan = function (value) {
            return "¥" + Number(value).toLocaleString(undefined, { maximumFractionDigits: 0 });
        };
        new Chart(money, {
            type: "line",
            data: {
                labels: labels,
                datasets: [
                    {
                        label: data.labels.net_sales,
                        data: data.money.net_sales.map(Number),
                        borderColor: "#0d6efd",
                        backgroundColor: "rgba(13,110,253,0.15)",
                        fill: true,
                        tension: 0.2
                    },
                    {
                        label: data.labels.recharges,
                        data: data.money.recharges.map(Number),
                        borderColor: "#198754",
                        backgroundColor: "#198754",
                        tension: 0.2
                    }
                ]
            },
            options: Object.assign({}, common, {
                scales: { y: { beginAtZero: true, ticks: { callback: yuan } } },
                plugins: {
                    legend: { position: "bottom" },
                    tooltip: {
                        callbacks: {
                            label: function (ctx) {
                                return ctx.dataset.label + ": ¥" + Number(ctx.parsed.y).toLocaleString(
                                    undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
                            }
                        }
                    }
                }
            })
        });
    }
}());
