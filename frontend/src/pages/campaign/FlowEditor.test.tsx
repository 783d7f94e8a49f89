import { MantineProvider } from "@mantine/core";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api";
import { addEdge, addNode, faultFrom, removeNode } from "./flowEdit";
import { FlowEditor } from "./FlowEditor";
import { layoutFlow, type FlowJson } from "./flowLayout";

const FLOW: FlowJson = {
  nodes: [
    { id: "start", type: "start" },
    { id: "hello", type: "send_message", data: { text: "Hi" } },
    { id: "wait", type: "wait_for_reply", data: { timeout_seconds: 120 } },
    { id: "end", type: "end" },
  ],
  edges: [
    { source: "start", target: "hello" },
    { source: "hello", target: "wait" },
    { source: "wait", target: "end", label: "replied" },
    { source: "wait", target: "end", label: "no_reply" },
  ],
};

const DANGLING = "body.flow: Value error, edge #3: target 'nowhere' is not a node (dangling edge)";
const LABELS = "body.flow: Value error, node 'wait': needs exactly one edge labelled each of ['no_reply', 'replied']";

function show(onSave: (flow: FlowJson) => Promise<unknown>) {
  return render(
    <MantineProvider>
      <FlowEditor flow={FLOW} onSave={onSave} />
    </MantineProvider>,
  );
}

function typeJson(flow: FlowJson) {
  fireEvent.change(screen.getByLabelText("Flow JSON"), { target: { value: JSON.stringify(flow) } });
}

describe("the flow editor's validation marking", () => {
  it("reads the node or the edge from the API's 422 message", () => {
    expect(faultFrom(DANGLING)).toEqual({ edge: 3, message: DANGLING });
    expect(faultFrom(LABELS)).toEqual({ node: "wait", message: LABELS });
    expect(faultFrom("name: too long")).toEqual({ message: "name: too long" });
  });

  it("marks the edge the API names, shows why, and clears the mark once the save passes", async () => {
    const onSave = vi.fn().mockRejectedValueOnce(new ApiError(422, DANGLING, "flow")).mockResolvedValueOnce({});
    show(onSave);
    const broken = { ...FLOW, edges: FLOW.edges.map((e, i) => (i === 3 ? { ...e, target: "nowhere" } : e)) };
    typeJson(broken);
    fireEvent.click(screen.getByRole("button", { name: "Save flow" }));
    await waitFor(() => expect(screen.getByTestId("edge-3").getAttribute("data-fault")).toBe("true"));
    expect(onSave).toHaveBeenCalledWith(broken);
    expect(screen.getByTestId("edge-2").getAttribute("data-fault")).toBe("false");
    expect(screen.getByTestId("flow-error").textContent).toContain("Edge #3 is marked in red");
    expect(within(screen.getByTestId("edge-form")).getByTestId("selected-fault").textContent).toContain("dangling edge");

    typeJson(FLOW);
    fireEvent.click(screen.getByRole("button", { name: "Save flow" }));
    await waitFor(() => expect(onSave).toHaveBeenCalledTimes(2));
    await waitFor(() => expect(screen.queryByTestId("flow-error")).toBeNull());
    expect(screen.getByTestId("edge-3").getAttribute("data-fault")).toBe("false");
  });

  it("selects and marks the node the API names", async () => {
    show(vi.fn().mockRejectedValue(new ApiError(422, LABELS, "flow")));
    typeJson({ ...FLOW, edges: FLOW.edges.slice(0, 3) });
    fireEvent.click(screen.getByRole("button", { name: "Save flow" }));
    const form = await screen.findByTestId("node-form");
    expect(form.textContent).toContain("wait");
    expect(within(form).getByTestId("selected-fault").textContent).toContain("needs exactly one edge labelled");
    expect(screen.getByTestId("flow-error").textContent).toContain("The node “wait” is outlined in red");
  });

  it("does not call the API with a document that is not JSON", async () => {
    const onSave = vi.fn();
    show(onSave);
    fireEvent.change(screen.getByLabelText("Flow JSON"), { target: { value: "{ nodes: " } });
    fireEvent.click(screen.getByRole("button", { name: "Save flow" }));
    await screen.findByTestId("flow-error");
    expect(onSave).not.toHaveBeenCalled();
  });
});

describe("flow edits", () => {
  it("labels a new edge from a branching node with the branch it lacks, and drops a removed node's edges", () => {
    const trimmed = { ...FLOW, edges: FLOW.edges.slice(0, 3) };
    expect(addEdge(trimmed, "wait", "end").edges[3]).toEqual({ source: "wait", target: "end", label: "no_reply" });
    const grown = addNode(FLOW, "delay");
    expect(grown.nodes[4]).toEqual({ id: "delay_1", type: "delay", data: { seconds: "1d" } });
    expect(removeNode(FLOW, "wait").edges).toEqual([{ source: "start", target: "hello" }]);
  });

  it("marks the faulty edge in the drawn graph", () => {
    const { edges, nodes } = layoutFlow(FLOW, undefined, { edge: 2 });
    expect(edges.map((e) => e.data!.fault)).toEqual([false, false, true, false]);
    expect(nodes.some((n) => n.data.fault)).toBe(false);
  });
});
