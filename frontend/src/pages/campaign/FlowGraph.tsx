// The flow drawn as a graph: one box per node with its live counts, edges along dagre's routes.
import { Badge, Group, Paper, Text } from "@mantine/core";
import { BaseEdge, EdgeLabelRenderer, Handle, Position, type Edge, type EdgeProps, type Node, type NodeProps } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { NODE_WIDTH, type RouteData, type StepData } from "./flowLayout";

export function Step({ data, selected }: NodeProps<Node<StepData>>) {
  const c = data.counts;
  return (
    <Paper
      withBorder
      p={8}
      w={NODE_WIDTH}
      data-testid={`flow-node-${data.nodeId}`}
      data-fault={data.fault}
      data-selected={Boolean(selected)}
      style={{
        borderColor: data.fault ? "var(--mantine-color-red-6)" : selected ? "var(--mantine-color-blue-6)" : undefined,
        borderWidth: data.fault || selected ? 3 : 1,
      }}
    >
      <Handle type="target" position={Position.Top} />
      <Group justify="space-between" gap={4}>
        <Text fw={600} size="sm">
          {data.nodeId}
        </Text>
        <Badge size="xs" variant="light">
          {data.kind}
        </Badge>
      </Group>
      {data.lines.slice(0, 4).map((line, i) => (
        <Text key={i} size="xs" lineClamp={1} title={line}>
          {line}
        </Text>
      ))}
      <Group gap={4} mt={4}>
        <Badge size="xs" color="cyan" data-testid="count-waiting">
          waiting {c.waiting}
        </Badge>
        <Badge size="xs" color="green" data-testid="count-sent">
          sent {c.sent}
        </Badge>
        <Badge size="xs" color="teal" data-testid="count-replied">
          replied {c.replied}
        </Badge>
        <Badge size="xs" color="red" data-testid="count-failed">
          failed {c.failed}
        </Badge>
      </Group>
      <Handle type="source" position={Position.Bottom} />
    </Paper>
  );
}

/** An edge along dagre's route, its label where dagre made room for it. */
export function Routed({ id, sourceX, sourceY, targetX, targetY, data, label, animated, markerEnd }: EdgeProps<Edge<RouteData>>) {
  const inner = (data?.points ?? []).slice(1, -1);
  const path = [`M ${sourceX} ${sourceY}`, ...inner.map((p) => `L ${p.x} ${p.y}`), `L ${targetX} ${targetY}`].join(" ");
  return (
    <>
      <BaseEdge
        id={id}
        path={path}
        markerEnd={markerEnd}
        style={data?.fault ? { stroke: "var(--mantine-color-red-6)", strokeWidth: 3 } : animated ? { strokeDasharray: 5, stroke: "#228be6" } : undefined}
      />
      {label || data?.fault ? (
        <EdgeLabelRenderer>
          <div
            className="nodrag nopan"
            data-testid={`flow-edge-label-${data?.index ?? ""}`}
            data-fault={Boolean(data?.fault)}
            style={{
              position: "absolute",
              transform: `translate(-50%, -50%) translate(${data?.labelX ?? 0}px, ${data?.labelY ?? 0}px)`,
              background: "white",
              fontSize: 11,
              padding: "1px 4px",
              borderRadius: 4,
              border: data?.fault ? "2px solid var(--mantine-color-red-6)" : "1px solid #dee2e6",
            }}
          >
            {label || "⚠"}
          </div>
        </EdgeLabelRenderer>
      ) : null}
    </>
  );
}

export const NODE_TYPES = { step: Step };
export const EDGE_TYPES = { routed: Routed };
