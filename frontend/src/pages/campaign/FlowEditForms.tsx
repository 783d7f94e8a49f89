// The flow editor's forms: the selected node's text, variants, delay or condition; the selected
// edge's ends, branch label and weight; and every edge as a list (keyboard-reachable, fault marked).
import { ActionIcon, Alert, Badge, Button, Group, NumberInput, Paper, Select, Stack, Table, Text, Textarea, TextInput, UnstyledButton } from "@mantine/core";
import { branchLabels, setVariants, updateEdge, updateNodeData, type Fault, type FlowNode } from "./flowEdit";
import type { FlowJson } from "./flowLayout";

const OPS = ["eq", "ne", "contains", "exists", "gt", "lt"];
type Variant = { name?: string; text: string; weight?: number };

function FaultNote({ message }: { message: string | null }) {
  return message ? (
    <Alert color="red" p="xs" data-testid="selected-fault">
      {message}
    </Alert>
  ) : null;
}

/** A duration as the API accepts it: seconds as a number, or "90m", "2d"… as text. */
function duration(value: string): string | number {
  return /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
}

export function NodeForm({
  node,
  doc,
  fault,
  onChange,
  onRemove,
}: {
  node: FlowNode;
  doc: FlowJson;
  fault: string | null;
  onChange: (next: FlowJson) => void;
  onRemove: () => void;
}) {
  const data = node.data ?? {};
  const set = (patch: Record<string, unknown>) => onChange(updateNodeData(doc, node.id, patch));
  const variants = Array.isArray(data.variants) ? (data.variants as Variant[]) : null;
  return (
    <Paper withBorder p="sm" data-testid="node-form" style={fault ? { borderColor: "var(--mantine-color-red-6)" } : undefined}>
      <Group justify="space-between" mb={4}>
        <Text fw={600} component="div">
          {node.id} <Badge variant="light">{node.type}</Badge>
        </Text>
        <Button size="compact-xs" color="red" variant="light" onClick={onRemove}>
          Remove node
        </Button>
      </Group>
      <FaultNote message={fault} />
      <Stack gap="xs" mt="xs">
        {node.type === "send_message" && variants === null ? (
          <>
            <Textarea label="Message text" autosize minRows={2} value={String(data.text ?? "")} onChange={(e) => set({ text: e.currentTarget.value })} />
            <Button size="compact-xs" variant="default" onClick={() => onChange(setVariants(doc, node.id, [{ name: "A", text: String(data.text ?? ""), weight: 1 }, { name: "B", text: "", weight: 1 }]))}>
              Split into A/B variants
            </Button>
          </>
        ) : null}
        {node.type === "send_message" && variants !== null
          ? variants.map((v, i) => (
              <Group key={i} align="end" gap={4} wrap="nowrap">
                <TextInput label={i === 0 ? "Name" : undefined} aria-label={`Variant ${i + 1} name`} value={v.name ?? ""} onChange={(e) => onChange(setVariants(doc, node.id, variants.map((w, j) => (j === i ? { ...w, name: e.currentTarget.value || undefined } : w))))} w={60} />
                <Textarea label={i === 0 ? "Text" : undefined} aria-label={`Variant ${i + 1} text`} autosize minRows={1} value={v.text} onChange={(e) => onChange(setVariants(doc, node.id, variants.map((w, j) => (j === i ? { ...w, text: e.currentTarget.value } : w))))} style={{ flex: 1 }} />
                <NumberInput label={i === 0 ? "Weight" : undefined} aria-label={`Variant ${i + 1} weight`} value={v.weight ?? 1} min={0} onChange={(w) => onChange(setVariants(doc, node.id, variants.map((x, j) => (j === i ? { ...x, weight: Number(w) } : x))))} w={70} />
                <ActionIcon variant="light" color="red" aria-label={`Remove variant ${i + 1}`} onClick={() => onChange(setVariants(doc, node.id, variants.filter((_, j) => j !== i)))}>
                  ×
                </ActionIcon>
              </Group>
            ))
          : null}
        {node.type === "send_message" && variants !== null ? (
          <Button size="compact-xs" variant="default" onClick={() => onChange(setVariants(doc, node.id, [...variants, { name: String.fromCharCode(65 + variants.length), text: "", weight: 1 }]))}>
            Add variant
          </Button>
        ) : null}
        {node.type === "delay" ? (
          <TextInput label="Wait (seconds, or 30m, 2h, 1d…)" value={String(data.seconds ?? data.duration ?? "")} onChange={(e) => set({ seconds: duration(e.currentTarget.value), duration: undefined })} />
        ) : null}
        {node.type === "wait_for_reply" ? (
          <TextInput label="Wait for a reply up to (seconds, or 30m, 2h, 1d…)" value={String(data.timeout_seconds ?? data.timeout ?? "")} onChange={(e) => set({ timeout_seconds: duration(e.currentTarget.value), timeout: undefined })} />
        ) : null}
        {node.type === "condition" ? (
          <>
            <TextInput label="Field" description="contact.first_name, contact.custom.<field>, context.variant, reply.category…" value={String(data.field ?? "")} onChange={(e) => set({ field: e.currentTarget.value })} />
            <Group grow>
              <Select label="Operator" data={OPS} value={String(data.op ?? "eq")} onChange={(v) => v && set({ op: v })} allowDeselect={false} />
              <TextInput label="Value" value={data.value === null || data.value === undefined ? "" : String(data.value)} onChange={(e) => set({ value: e.currentTarget.value === "" ? null : e.currentTarget.value })} />
            </Group>
          </>
        ) : null}
        {node.type === "ab_split" ? <Text size="xs">Each outgoing edge's weight is its share of contacts: select an edge to set it.</Text> : null}
      </Stack>
    </Paper>
  );
}

export function EdgeForm({
  index,
  doc,
  fault,
  onChange,
  onRemove,
}: {
  index: number;
  doc: FlowJson;
  fault: string | null;
  onChange: (next: FlowJson) => void;
  onRemove: () => void;
}) {
  const edge = doc.edges[index];
  const ids = doc.nodes.map((n) => n.id);
  const sourceType = doc.nodes.find((n) => n.id === edge.source)?.type;
  const labels = branchLabels(sourceType);
  const weight = (edge.data?.weight as number | undefined) ?? undefined;
  return (
    <Paper withBorder p="sm" data-testid="edge-form" style={fault ? { borderColor: "var(--mantine-color-red-6)" } : undefined}>
      <Group justify="space-between" mb={4}>
        <Text fw={600}>Edge #{index}</Text>
        <Button size="compact-xs" color="red" variant="light" onClick={onRemove}>
          Remove edge
        </Button>
      </Group>
      <FaultNote message={fault} />
      <Group grow mt="xs">
        <Select label="From" data={ids} value={ids.includes(edge.source) ? edge.source : null} placeholder={edge.source} onChange={(v) => v && onChange(updateEdge(doc, index, { source: v }))} allowDeselect={false} searchable />
        <Select label="To" data={ids} value={ids.includes(edge.target) ? edge.target : null} placeholder={`${edge.target} (missing)`} onChange={(v) => v && onChange(updateEdge(doc, index, { target: v }))} allowDeselect={false} searchable />
      </Group>
      {labels.length > 0 ? (
        <Select label="Branch" data={labels} value={edge.label ?? null} onChange={(v) => onChange(updateEdge(doc, index, { label: v }))} mt="xs" />
      ) : null}
      {sourceType === "ab_split" ? (
        <NumberInput label="Weight (share of contacts)" value={weight ?? 1} onChange={(w) => onChange(updateEdge(doc, index, { data: { ...(edge.data ?? {}), weight: Number(w) } }))} mt="xs" />
      ) : null}
    </Paper>
  );
}

/** Every edge, each a button that selects it; the one the API named is marked. */
export function EdgeList({ doc, fault, selected, onSelect }: { doc: FlowJson; fault: Fault | null; selected: number | null; onSelect: (index: number) => void }) {
  return (
    <Paper withBorder p="sm">
      <Text fw={600} size="sm" mb={4}>
        Edges
      </Text>
      <Table data-testid="edge-list" verticalSpacing={2}>
        <Table.Tbody>
          {doc.edges.map((e, i) => {
            const bad = fault?.edge === i;
            return (
              <Table.Tr key={i} data-testid={`edge-${i}`} data-fault={bad} style={bad ? { background: "var(--mantine-color-red-1)" } : selected === i ? { background: "var(--mantine-color-blue-0)" } : undefined}>
                <Table.Td>
                  <UnstyledButton onClick={() => onSelect(i)} aria-label={`Edit edge #${i} from ${e.source} to ${e.target}`}>
                    <Text size="sm" component="div">
                      #{i} {e.source} → {e.target} {e.label ? <Badge size="xs" variant="light">{e.label}</Badge> : null} {bad ? <Badge size="xs" color="red">at fault</Badge> : null}
                    </Text>
                  </UnstyledButton>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Paper>
  );
}
