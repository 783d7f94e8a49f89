import { describe, expect, it } from "vitest";
import { describe as describeNode, faultOf, layoutFlow, NODE_WIDTH, type FlowJson } from "./flowLayout";

const FLOW: FlowJson = {
  nodes: [
    { id: "start", type: "start" },
    { id: "hello", type: "send_message", data: { variants: [{ name: "A", text: "Hi", weight: 1 }, { name: "B", text: "Hey", weight: 1 }] } },
    { id: "wait", type: "wait_for_reply", data: { timeout_seconds: 120 } },
    { id: "follow_up", type: "send_message", data: { text: "Following up" } },
    { id: "end", type: "end" },
  ],
  edges: [
    { source: "start", target: "hello" },
    { source: "hello", target: "wait" },
    { source: "wait", target: "end", label: "replied" },
    { source: "wait", target: "follow_up", label: "no_reply" },
    { source: "follow_up", target: "end" },
  ],
};

describe("layoutFlow", () => {
  it("places every node below its predecessor, without overlaps", () => {
    const { nodes, edges } = layoutFlow(FLOW);
    const y = Object.fromEntries(nodes.map((n) => [n.id, n.position.y]));
    for (const edge of FLOW.edges) expect(y[edge.target]).toBeGreaterThan(y[edge.source]);
    const xs = nodes.filter((n) => Math.abs(n.position.y - y.end) < 1);
    expect(xs).toHaveLength(1);
    expect(edges.map((e) => e.label)).toEqual(["", "", "replied", "no_reply", ""]);
  });

  it("puts every edge label where no node covers it", () => {
    const { nodes, edges } = layoutFlow(FLOW);
    for (const edge of edges) {
      const { labelX, labelY } = edge.data!;
      for (const node of nodes) {
        const inside =
          labelX > node.position.x && labelX < node.position.x + NODE_WIDTH && labelY > node.position.y && labelY < node.position.y + 90;
        expect(inside, `${edge.id} label under ${node.id}`).toBe(false);
      }
    }
  });

  it("shows texts, variants, waits and live counts with each edge's share", () => {
    const { nodes, edges } = layoutFlow(FLOW, {
      nodes: { hello: { waiting: 0, reached: 4, sent: 4, failed: 0, replied: 1 }, wait: { waiting: 3, reached: 4, sent: 0, failed: 0, replied: 0 } },
      edges: [{ source: "wait", target: "end", leads: 1, share: 25 }],
    });
    const hello = nodes.find((n) => n.id === "hello")!;
    expect(hello.data.lines).toEqual(["A (1): Hi", "B (1): Hey"]);
    expect(hello.data.counts.sent).toBe(4);
    expect(nodes.find((n) => n.id === "wait")!.data.counts.waiting).toBe(3);
    expect(nodes.find((n) => n.id === "end")!.data.counts.waiting).toBe(0);
    const replied = edges.find((e) => e.target === "end" && e.source === "wait")!;
    expect(replied.label).toBe("replied · 25% · 1 leads");
    expect(replied.animated).toBe(true);
    expect(edges.find((e) => e.target === "follow_up")!.label).toBe("no_reply · 0 leads");
  });

  it("marks the node an API validation error names", () => {
    expect(faultOf("flow: node 'wait': timeout_seconds must be positive")).toBe("wait");
    expect(faultOf("name: too long")).toBeNull();
    const { nodes } = layoutFlow(FLOW, undefined, "wait");
    expect(nodes.filter((n) => n.data.fault).map((n) => n.id)).toEqual(["wait"]);
    expect(describeNode(FLOW.nodes[2])).toEqual(["wait up to 120 s for a reply"]);
  });
});
