// Draws every <canvas data-chart="name" data-source="url"> on the page; canvases that share a
// source share one request. The figures are also on the page as text, for those who cannot
// see the charts.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import { CHARTS } from "./series";

Chart.register(
  BarController, BarElement, CategoryScale, Filler, Legend, LinearScale, LineController, LineElement,
  PointElement, Tooltip,
);

const requests = new Map<string, Promise<unknown>>();

function load(url: string): Promise<unknown> {
  let request = requests.get(url);
  if (!request) {
    request = fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(
      (response) => {
        if (!response.ok) throw new Error(`${url} answered ${response.status}`);
        return response.json();
      },
    );
    requests.set(url, request);
  }
  return request;
}

for (const canvas of document.querySelectorAll<HTMLCanvasElement>("canvas[data-chart]")) {
  const build = CHARTS[canvas.dataset.chart ?? ""];
  const source = canvas.dataset.source;
  if (!build || !source) continue;
  load(source)
    .then((data) => {
      new Chart(canvas, build(data as never));
      canvas.closest(".chart-box")?.setAttribute("data-drawn", "true");
    })
    .catch((error: unknown) => {
      const box = canvas.closest(".chart-box");
      if (box) box.setAttribute("data-error", String(error));
    });
}
