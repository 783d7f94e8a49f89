// Pure edits of a flow document for the editor; the API alone decides whether the result is valid.
import type { FlowJson } from "./flowLayout";

export type FlowNode = FlowJson["nodes"][number];
export type FlowEdge = FlowJson["edges"][number];

/** What the API's 422 names: a node by id or an edge by its index in `edges`. */
export type Fault = { node?: string; edge?: number; message: string };

export const NODE_KINDS = ["send_message", "delay", "wait_for_reply", "condition", "ab_split", "end", "start"] as const;

/** The node or edge an API validation message names ("node 'x': …", "edge #2: …"). */
export function faultFrom(message: string): Fault {
  const node = message.match(/node '([^']+)'/);
  if (node) return { node: node[1], message };
  const edge = message.match(/edge #(\d+)/);
  if (edge) return { edge: Number(edge[1]), message };
  return { message };
}

/** The branch labels a node's outgoing edges must carry, if any. */
export function branchLabels(type: string | undefined): string[] {
  if (type === "wait_for_reply") return ["replied", "no_reply"];
  if (type === "condition") return ["true", "false"];
  return [];
}

const DEFAULT_DATA: Record<string, Record<string, unknown> | undefined> = {
  send_message: { text: "" },
  delay: { seconds: "1d" },
  wait_for_reply: { timeout_seconds: "2d" },
  condition: { field: "contact.first_name", op: "exists", value: null },
};

/** An id not yet used in the flow, from the node's type. */
export function freshId(flow: FlowJson, type: string): string {
  const taken = new Set(flow.nodes.map((n) => n.id));
  for (let i = 1; ; i++) {
    const id = `${type}_${i}`;
    if (!taken.has(id)) return id;
  }
}

export function addNode(flow: FlowJson, type: string, id: string = freshId(flow, type)): FlowJson {
  const data = DEFAULT_DATA[type];
  const node: FlowNode = data ? { id, type, data: { ...data } } : { id, type };
  return { ...flow, nodes: [...flow.nodes, node] };
}

/** Removes the node and every edge to or from it. */
export function removeNode(flow: FlowJson, id: string): FlowJson {
  return {
    nodes: flow.nodes.filter((n) => n.id !== id),
    edges: flow.edges.filter((e) => e.source !== id && e.target !== id),
  };
}

export function updateNodeData(flow: FlowJson, id: string, patch: Record<string, unknown>): FlowJson {
  return {
    ...flow,
    nodes: flow.nodes.map((n) => {
      if (n.id !== id) return n;
      const data: Record<string, unknown> = { ...(n.data ?? {}), ...patch };
      for (const key of Object.keys(data)) if (data[key] === undefined) delete data[key];
      return { ...n, data };
    }),
  };
}

/** The first branch label the source still lacks, so a new edge from a branching node is labelled. */
export function nextLabel(flow: FlowJson, source: string): string | undefined {
  const type = flow.nodes.find((n) => n.id === source)?.type;
  const used = new Set(flow.edges.filter((e) => e.source === source).map((e) => e.label));
  return branchLabels(type).find((l) => !used.has(l));
}

export function addEdge(flow: FlowJson, source: string, target: string, label?: string | null): FlowJson {
  const chosen = label === undefined ? nextLabel(flow, source) : label;
  const edge: FlowEdge = chosen ? { source, target, label: chosen } : { source, target };
  return { ...flow, edges: [...flow.edges, edge] };
}

export function removeEdge(flow: FlowJson, index: number): FlowJson {
  return { ...flow, edges: flow.edges.filter((_, i) => i !== index) };
}

export function updateEdge(flow: FlowJson, index: number, patch: Partial<FlowEdge>): FlowJson {
  return {
    ...flow,
    edges: flow.edges.map((e, i) => {
      if (i !== index) return e;
      const next: FlowEdge = { ...e, ...patch };
      if (!next.label) delete next.label;
      return next;
    }),
  };
}

/** A variant list's edit: the variants, or plain text when the last variant goes. */
export function setVariants(flow: FlowJson, id: string, variants: { name?: string; text: string; weight?: number }[]): FlowJson {
  if (variants.length === 0) return updateNodeData(flow, id, { variants: undefined, text: "" });
  return updateNodeData(flow, id, { variants, text: undefined });
}
