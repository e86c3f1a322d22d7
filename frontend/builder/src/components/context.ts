// What every node on the canvas needs from the builder, without threading props through
// React Flow: the block catalogue, the user's credentials, the links' sources and the actions.
import { createContext, useContext } from "react";
import type { Block, NodeExecution, SavedCredential } from "../api/types";

export interface NodeActions {
  setInput(nodeId: string, pin: string, value: unknown): void;
  setLabel(nodeId: string, label: string): void;
  setMetadata(nodeId: string, key: string, value: unknown): void;
  addPin(nodeId: string, pin: string): void;
  removePin(nodeId: string, pin: string): void;
  testNode(nodeId: string): void;
  showExecutions(nodeId: string): void;
  showLinks(nodeId: string): void;
}

export interface BuilderContextValue {
  blocks: Map<string, Block>;
  credentials: Record<string, SavedCredential[]>;
  providers: Record<string, string>;
  credentialsUrl: string;
  /** nodeId → pin → "Source label.pin" for every linked input pin. */
  linked: Map<string, Map<string, string>>;
  /** nodeId → its output pins that have links (an unknown block's pins are known only so). */
  outgoing: Map<string, string[]>;
  executions: Map<string, NodeExecution[]>;
  readOnly: boolean;
  actions: NodeActions;
}

export const BuilderContext = createContext<BuilderContextValue | null>(null);

export function useBuilder(): BuilderContextValue {
  const value = useContext(BuilderContext);
  if (!value) throw new Error("useBuilder outside the builder");
  return value;
}
