// Editing a flow the campaign's status allows to change: the graph, a form for the selected node
// or edge, and the API's verdict on save marking the node or edge at fault.
import { Alert, Button, Grid, Group, Paper, ScrollArea, Select, Stack, Text, Textarea, Title } from "@mantine/core";
import { Background, Controls, ReactFlow, type Connection } from "@xyflow/react";
import { useMemo, useState } from "react";
import { ApiError, errorSentence } from "../../api";
import { EDGE_TYPES, NODE_TYPES } from "./FlowGraph";
import { addEdge, addNode, faultFrom, NODE_KINDS, removeEdge, removeNode, type Fault } from "./flowEdit";
import { EdgeForm, EdgeList, NodeForm } from "./FlowEditForms";
import { layoutFlow, type FlowCounts, type FlowJson } from "./flowLayout";

export type Selection = { node: string } | { edge: number } | null;

type State = { doc: FlowJson; text: string };

export function FlowEditor({
  flow,
  counts,
  onSave,
  onSaved,
}: {
  flow: FlowJson;
  counts?: FlowCounts;
  /** Stores the flow through the API; rejects with its ApiError (a 422 names the node or edge). */
  onSave: (flow: FlowJson) => Promise<unknown>;
  onSaved?: () => void;
}) {
  const original = useMemo(() => JSON.stringify(flow, null, 2), [flow]);
  const [state, setState] = useState<State>({ doc: flow, text: original });
  const [selected, setSelected] = useState<Selection>(null);
  const [fault, setFault] = useState<Fault | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [newType, setNewType] = useState<string>("send_message");
  const [edgeFrom, setEdgeFrom] = useState<string | null>(null);
  const [edgeTo, setEdgeTo] = useState<string | null>(null);
  const doc = state.doc;
  const dirty = state.text !== original;
  const edit = (next: FlowJson) => setState({ doc: next, text: JSON.stringify(next, null, 2) });
  const graph = useMemo(() => {
    try {
      const laid = layoutFlow(doc, counts, fault);
      const chosen = selected && "node" in selected ? selected.node : null;
      return { ...laid, nodes: laid.nodes.map((n) => ({ ...n, selected: n.id === chosen })) };
    } catch {
      return null;
    }
  }, [doc, counts, fault, selected]);
  const ids = doc.nodes.map((n) => n.id);
  const save = async () => {
    setError(null);
    let body: FlowJson;
    try {
      body = JSON.parse(state.text) as FlowJson;
    } catch (err) {
      setError(new ApiError(422, `not valid JSON: ${(err as Error).message}`, "flow"));
      return;
    }
    setSaving(true);
    try {
      await onSave(body);
      setFault(null);
      onSaved?.();
    } catch (err) {
      setError(err);
      const found = err instanceof ApiError && err.status === 422 ? faultFrom(err.detail) : null;
      setFault(found);
      if (found?.node !== undefined) setSelected({ node: found.node });
      else if (found?.edge !== undefined) setSelected({ edge: found.edge });
    } finally {
      setSaving(false);
    }
  };
  const discard = () => {
    setState({ doc: flow, text: original });
    setFault(null);
    setError(null);
    setSelected(null);
  };
  return (
    <Stack>
      <Grid>
        <Grid.Col span={{ base: 12, md: 7 }}>
          {graph === null ? (
            <Alert color="red">This flow cannot be drawn: check its nodes and edges.</Alert>
          ) : (
            <div style={{ height: 620 }} data-testid="flow-graph" data-editing="true">
              <ReactFlow
                key={doc.nodes.length /* a node added or removed: fit the view again */}
                nodes={graph.nodes}
                edges={graph.edges}
                nodeTypes={NODE_TYPES}
                edgeTypes={EDGE_TYPES}
                fitView
                nodesDraggable={false}
                nodesConnectable
                onConnect={(c: Connection) => c.source && c.target && edit(addEdge(doc, c.source, c.target))}
                onNodeClick={(_, node) => setSelected({ node: node.id })}
                onEdgeClick={(_, edge) => setSelected({ edge: Number(edge.data?.index ?? -1) })}
                deleteKeyCode={null}
              >
                <Background />
                <Controls showInteractive={false} />
              </ReactFlow>
            </div>
          )}
          <Text size="xs" c="dimmed" mt={4}>
            Click a node or an edge to edit it; drag from a node's lower handle to another node to connect them.
          </Text>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <ScrollArea.Autosize mah={660}>
            <Stack gap="sm">
              <Select
                label="Edit node"
                placeholder="Pick a node"
                data={ids}
                value={selected && "node" in selected ? selected.node : null}
                onChange={(v) => setSelected(v ? { node: v } : null)}
                searchable
              />
              {selected && "node" in selected && doc.nodes.some((n) => n.id === selected.node) ? (
                <NodeForm
                  key={selected.node}
                  node={doc.nodes.find((n) => n.id === selected.node)!}
                  fault={fault?.node === selected.node ? fault.message : null}
                  onChange={edit}
                  doc={doc}
                  onRemove={() => {
                    edit(removeNode(doc, selected.node));
                    setSelected(null);
                  }}
                />
              ) : null}
              {selected && "edge" in selected && doc.edges[selected.edge] ? (
                <EdgeForm
                  key={`e${selected.edge}`}
                  index={selected.edge}
                  doc={doc}
                  fault={fault?.edge === selected.edge ? fault.message : null}
                  onChange={edit}
                  onRemove={() => {
                    edit(removeEdge(doc, selected.edge));
                    setSelected(null);
                  }}
                />
              ) : null}
              <Paper withBorder p="sm">
                <Title order={6} mb={4}>
                  Add
                </Title>
                <Group align="end" gap="xs">
                  <Select aria-label="New node type" data={[...NODE_KINDS]} value={newType} onChange={(v) => v && setNewType(v)} allowDeselect={false} w={170} />
                  <Button
                    variant="light"
                    onClick={() => {
                      const next = addNode(doc, newType);
                      edit(next);
                      setSelected({ node: next.nodes[next.nodes.length - 1].id });
                    }}
                  >
                    Add node
                  </Button>
                </Group>
                <Group align="end" gap="xs" mt="xs">
                  <Select aria-label="Edge from" placeholder="from" data={ids} value={edgeFrom} onChange={setEdgeFrom} w={130} searchable />
                  <Select aria-label="Edge to" placeholder="to" data={ids} value={edgeTo} onChange={setEdgeTo} w={130} searchable />
                  <Button
                    variant="light"
                    disabled={!edgeFrom || !edgeTo}
                    onClick={() => {
                      const next = addEdge(doc, edgeFrom!, edgeTo!);
                      edit(next);
                      setSelected({ edge: next.edges.length - 1 });
                    }}
                  >
                    Add edge
                  </Button>
                </Group>
              </Paper>
              <EdgeList doc={doc} fault={fault} selected={selected && "edge" in selected ? selected.edge : null} onSelect={(i) => setSelected({ edge: i })} />
            </Stack>
          </ScrollArea.Autosize>
        </Grid.Col>
      </Grid>
      {error ? (
        <Alert color="red" role="alert" data-testid="flow-error">
          {errorSentence(error).replace(/([^.])$/, "$1.")}
          {fault?.node !== undefined ? ` The node “${fault.node}” is outlined in red.` : fault?.edge !== undefined ? ` Edge #${fault.edge} is marked in red.` : ""}
        </Alert>
      ) : null}
      <Textarea
        label="Flow JSON"
        description="The same flow as the API stores it; edits here and in the forms above stay in step."
        autosize
        minRows={4}
        maxRows={10}
        ff="monospace"
        value={state.text}
        onChange={(e) => {
          const text = e.currentTarget.value;
          let parsed: FlowJson | null = null;
          try {
            parsed = JSON.parse(text) as FlowJson;
          } catch {
            parsed = null;
          }
          setState((prev) => ({ doc: parsed && Array.isArray(parsed.nodes) && Array.isArray(parsed.edges) ? parsed : prev.doc, text }));
        }}
      />
      <Group>
        <Button onClick={save} loading={saving} disabled={!dirty}>
          Save flow
        </Button>
        <Button variant="default" onClick={discard} disabled={!dirty && !error}>
          Discard changes
        </Button>
        <Text size="sm" c="dimmed">
          The API checks the flow when you save and names the node or edge at fault.
        </Text>
      </Group>
    </Stack>
  );
}
