// The REST API with the browser's session: same-origin cookies plus Django's CSRF header.
// Errors come back in the platform's envelope (SPEC §7) and are thrown as ApiError.
import type {
  Block,
  BlockOutputs,
  CopilotProposal,
  Graph,
  GraphExecution,
  GraphIn,
  GraphMeta,
  GraphRunCheck,
  NodeExecution,
} from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }

  get nodeErrors(): Record<string, Record<string, string>> | null {
    const found = this.details?.node_errors;
    return found && typeof found === "object" ? (found as Record<string, Record<string, string>>) : null;
  }
}

interface Page<T> {
  data: T[];
  total: number;
  page: number;
  total_pages: number;
}

export class Api {
  constructor(private readonly csrfToken: string) {}

  private async request<T>(method: string, url: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRFToken"] = this.csrfToken;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "NETWORK_ERROR", "The server could not be reached; nothing was lost, try again.", {});
    }
    if (response.status === 204) return undefined as T;
    const payload = await response.json().catch(() => null);
    if (!response.ok) {
      const error = payload?.error ?? {};
      throw new ApiError(
        response.status,
        error.error_code ?? "SYSTEM_ERROR",
        error.message ?? `The server answered ${response.status}.`,
        error.details ?? {},
      );
    }
    return payload as T;
  }

  async blocks(url: string): Promise<Block[]> {
    const blocks: Block[] = [];
    for (let page = 1; ; page += 1) {
      const found = await this.request<Page<Block>>("GET", `${url}?page_size=100&page=${page}`);
      blocks.push(...found.data);
      if (page >= found.total_pages) return blocks;
    }
  }

  graph(id: string, version?: number | null): Promise<Graph> {
    const query = version ? `?version=${version}` : "";
    return this.request("GET", `/api/graphs/${id}${query}`);
  }

  /** A graph the chat's copilot proposed; it is no agent until saved. */
  proposal(id: string): Promise<CopilotProposal> {
    return this.request("GET", `/api/chat/proposals/${id}`);
  }

  graphCreate(body: GraphIn): Promise<Graph> {
    return this.request("POST", "/api/graphs", body);
  }

  /** Saves a new version (max+1) and makes it active. */
  graphUpdate(id: string, body: GraphIn): Promise<Graph> {
    return this.request("PUT", `/api/graphs/${id}`, body);
  }

  /** What stops a saved version from running (run inputs aside): {node_id: {field: message}}. */
  runCheck(id: string, version: number): Promise<GraphRunCheck> {
    return this.request("GET", `/api/graphs/${id}/run-check?version=${version}`);
  }

  graphDelete(id: string): Promise<void> {
    return this.request("DELETE", `/api/graphs/${id}`);
  }

  graphFork(id: string): Promise<Graph> {
    return this.request("POST", `/api/graphs/${id}/fork`);
  }

  async versions(id: string): Promise<GraphMeta[]> {
    const found = await this.request<Page<GraphMeta>>("GET", `/api/graphs/${id}/versions?page_size=100`);
    return found.data;
  }

  versionActivate(id: string, version: number): Promise<GraphMeta> {
    return this.request("PUT", `/api/graphs/${id}/versions/active`, { active_graph_version: version });
  }

  execute(id: string, version: number, inputs: Record<string, unknown>, credentials: Record<string, string>) {
    return this.request<GraphExecution>("POST", `/api/graphs/${id}/execute/${version}`, {
      inputs,
      credentials_inputs: credentials,
    });
  }

  stop(graphId: string, execId: string): Promise<GraphExecution> {
    return this.request("POST", `/api/graphs/${graphId}/executions/${execId}/stop`);
  }

  execution(execId: string): Promise<GraphExecution & { node_executions: NodeExecution[] }> {
    return this.request("GET", `/api/executions/${execId}`);
  }

  blockExecute(blockId: string, data: Record<string, unknown>): Promise<BlockOutputs> {
    return this.request("POST", `/api/blocks/${blockId}/execute`, data);
  }
}
