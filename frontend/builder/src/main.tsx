// Mounts the builder island on the Django page (templates/dashboard/builder.html), which
// carries the bootstrap as a json_script and the CSRF token for the API.
import "@xyflow/react/dist/style.css";
import "./builder.css";
import { ReactFlowProvider } from "@xyflow/react";
import { createRoot } from "react-dom/client";
import { Api } from "./api/client";
import type { Bootstrap } from "./api/types";
import { Builder } from "./components/Builder";

const root = document.getElementById("builder-root");
const bootstrap = document.getElementById("builder-bootstrap");
if (root && bootstrap) {
  const boot = JSON.parse(bootstrap.textContent ?? "{}") as Bootstrap;
  createRoot(root).render(
    <ReactFlowProvider>
      <Builder api={new Api(boot.csrfToken)} boot={boot} />
    </ReactFlowProvider>,
  );
}
