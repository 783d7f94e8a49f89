// The campaign's flow JSON as positioned graph nodes and edges, with live counts (dagre layout).
import dagre from "@dagrejs/dagre";
import type { Edge, Node } from "@xyflow/react";

export type FlowJson = {
  nodes: { id: string; type: string; data?: Record<string, unknown> }[];
  edges: { source: string; target: string; label?: string | null; data?: Record<string, unknown> }[];
};
export type NodeCounts = { waiting: number; reached: number; sent: number; failed: number; replied: number };
export type FlowCounts = {
  nodes: Record<string, NodeCounts>;
  edges: { source: string; target: string; leads: number; share: number }[];
};
export type RouteData = { points: { x: number; y: number }[]; labelX: number; labelY: number; index: number; fault: boolean };
/** The node (by id) or edge (by index) an API validation error names. */
export type FaultMark = { node?: string; edge?: number };
export type StepData = {
  nodeId: string;
  kind: string;
  lines: string[];
  counts: NodeCounts;
  fault: boolean;
};

export const NODE_WIDTH = 240;
const ZERO: NodeCounts = { waiting: 0, reached: 0, sent: 0, failed: 0, replied: 0 };

/** What a node says, line by line: its text, its variants, its wait or condition. */
export function describe(node: FlowJson["nodes"][number]): string[] {
  const data = node.data ?? {};
  const lines: string[] = [];
  if (typeof data.text === "string") lines.push(data.text);
  if (Array.isArray(data.variants)) {
    data.variants.forEach((v: { name?: string; text?: string; weight?: number }, i: number) =>
      lines.push(`${v.name ?? `V${i + 1}`}${v.weight !== undefined ? ` (${v.weight})` : ""}: ${v.text ?? ""}`),
    );
  }
  const wait = data.timeout_seconds ?? data.timeout ?? data.seconds ?? data.duration;
  if (wait !== undefined) lines.push(node.type === "wait_for_reply" ? `wait up to ${wait} s for a reply` : `wait ${wait} s`);
  if (node.type === "condition") lines.push(`if ${String(data.field)} ${String(data.op ?? "eq")} ${JSON.stringify(data.value ?? null)}`);
  return lines;
}

function height(lines: string[]): number {
  return 70 + Math.min(lines.length, 4) * 20;
}

/** Lay the flow out top to bottom; edges carry the share of leads that took them. */
export function layoutFlow(flow: FlowJson, counts?: FlowCounts, fault?: string | FaultMark | null): { nodes: Node<StepData>[]; edges: Edge<RouteData>[] } {
  const mark: FaultMark = typeof fault === "string" ? { node: fault } : (fault ?? {});
  const graph = new dagre.graphlib.Graph({ multigraph: true });
  graph.setGraph({ rankdir: "TB", nodesep: 40, ranksep: 70 });
  graph.setDefaultEdgeLabel(() => ({}));
  const lines = new Map(flow.nodes.map((n) => [n.id, describe(n)]));
  for (const node of flow.nodes) graph.setNode(node.id, { width: NODE_WIDTH, height: height(lines.get(node.id) ?? []) });
  // Edges get room for their labels, so dagre routes them clear of the nodes.
  flow.edges.forEach((edge, i) => graph.setEdge(edge.source, edge.target, { width: 110, height: 18, labelpos: "c" }, `e${i}`));
  dagre.layout(graph);
  const nodes: Node<StepData>[] = flow.nodes.map((node) => {
    const box = graph.node(node.id);
    const h = height(lines.get(node.id) ?? []);
    return {
      id: node.id,
      type: "step",
      position: { x: box.x - NODE_WIDTH / 2, y: box.y - h / 2 },
      data: {
        nodeId: node.id,
        kind: node.type,
        lines: lines.get(node.id) ?? [],
        counts: counts?.nodes[node.id] ?? ZERO,
        fault: mark.node === node.id,
      },
    };
  });
  const edges: Edge<RouteData>[] = flow.edges.map((edge, i) => {
    const route = graph.edge({ v: edge.source, w: edge.target, name: `e${i}` });
    const taken = counts?.edges.find((e) => e.source === edge.source && e.target === edge.target);
    const share = taken ? `${taken.share}% · ${taken.leads} leads` : counts ? "0 leads" : "";
    const label = [edge.label, share].filter(Boolean).join(" · ");
    return {
      id: `e${i}-${edge.source}-${edge.target}`,
      source: edge.source,
      target: edge.target,
      label,
      type: "routed",
      data: { points: route.points, labelX: route.x, labelY: route.y, index: i, fault: mark.edge === i },
      animated: Boolean(taken && taken.leads > 0),
    };
  });
  return { nodes, edges };
}

/** The node a flow validation error names ("node 'x': …"), if any. */
export function faultOf(message: string): string | null {
  const match = message.match(/node '([^']+)'/);
  return match ? match[1] : null;
}
