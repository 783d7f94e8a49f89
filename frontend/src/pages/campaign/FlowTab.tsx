import { Alert, Badge, Button, Group, Paper, Stack, Text, Textarea, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Background,
  BaseEdge,
  Controls,
  EdgeLabelRenderer,
  Handle,
  Position,
  ReactFlow,
  type Edge,
  type EdgeProps,
  type Node,
  type NodeProps,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useMemo, useState } from "react";
import {
  ApiError,
  campaignAllowedActionsCampaignFlowsCampaignIdAllowedActionsGet,
  campaignFlowCountsCampaignFlowsCampaignIdFlowCountsGet,
  errorSentence,
  unwrap,
  updateCampaignCampaignFlowsCampaignIdPatch,
  type CampaignOut,
  type FlowIn,
} from "../../api";
import { ErrorState } from "../../components/States";
import { age } from "../../format";
import { REFRESH_MS } from "./CampaignPage";
import { PreviewPanel } from "./PreviewPanel";
import { faultOf, layoutFlow, NODE_WIDTH, type FlowJson, type RouteData, type StepData } from "./flowLayout";

function Step({ data }: NodeProps<Node<StepData>>) {
  const c = data.counts;
  return (
    <Paper
      withBorder
      p={8}
      w={NODE_WIDTH}
      data-testid={`flow-node-${data.nodeId}`}
      data-fault={data.fault}
      style={{ borderColor: data.fault ? "var(--mantine-color-red-6)" : undefined, borderWidth: data.fault ? 3 : 1 }}
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
function Routed({ id, sourceX, sourceY, targetX, targetY, data, label, animated, markerEnd }: EdgeProps<Edge<RouteData>>) {
  const inner = (data?.points ?? []).slice(1, -1);
  const path = [`M ${sourceX} ${sourceY}`, ...inner.map((p) => `L ${p.x} ${p.y}`), `L ${targetX} ${targetY}`].join(" ");
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} style={animated ? { strokeDasharray: 5, stroke: "#228be6" } : undefined} />
      {label ? (
        <EdgeLabelRenderer>
          <div
            className="nodrag nopan"
            style={{
              position: "absolute",
              transform: `translate(-50%, -50%) translate(${data?.labelX ?? 0}px, ${data?.labelY ?? 0}px)`,
              background: "white",
              fontSize: 11,
              padding: "1px 4px",
              borderRadius: 4,
              border: "1px solid #dee2e6",
            }}
          >
            {label}
          </div>
        </EdgeLabelRenderer>
      ) : null}
    </>
  );
}

const NODE_TYPES = { step: Step };
const EDGE_TYPES = { routed: Routed };

export function FlowTab({ campaign, org }: { campaign: CampaignOut; org: string }) {
  const path = { path: { campaign_id: campaign.id } };
  const queryClient = useQueryClient();
  const counts = useQuery({
    queryKey: ["flow-counts", org, campaign.id],
    queryFn: () => unwrap(campaignFlowCountsCampaignFlowsCampaignIdFlowCountsGet(path)),
    refetchInterval: REFRESH_MS,
  });
  const allowed = useQuery({
    queryKey: ["allowed", org, campaign.id, campaign.status, campaign.enabled, campaign.deleted_at],
    queryFn: () => unwrap(campaignAllowedActionsCampaignFlowsCampaignIdAllowedActionsGet(path)),
  });
  const [draft, setDraft] = useState<string | null>(null);
  const [fault, setFault] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: async (text: string) => {
      // The server checks the document and names the node at fault.
      let flow: FlowIn;
      try {
        flow = JSON.parse(text) as FlowIn;
      } catch (err) {
        throw new ApiError(422, `not valid JSON: ${(err as Error).message}`, "flow");
      }
      return unwrap(updateCampaignCampaignFlowsCampaignIdPatch({ ...path, body: { flow } }));
    },
    onSuccess: () => {
      setDraft(null);
      setFault(null);
      queryClient.invalidateQueries({ queryKey: ["campaign", org, campaign.id] });
    },
    onError: (err) => setFault(err instanceof ApiError ? faultOf(err.detail) : null),
  });
  const shown = useMemo(() => {
    if (draft === null) return campaign.flow as unknown as FlowJson;
    try {
      return JSON.parse(draft) as FlowJson;
    } catch {
      return campaign.flow as unknown as FlowJson;
    }
  }, [draft, campaign.flow]);
  const graph = useMemo(() => {
    try {
      return layoutFlow(shown, counts.data, fault);
    } catch {
      return null;
    }
  }, [shown, counts.data, fault]);
  const editable = allowed.data?.allowed_actions.includes("edit_flow") ?? false;
  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed" data-testid="flow-counts-age">
          {counts.data ? `Counts from ${age(Date.parse(counts.data.computed_at), Date.now())}; refreshed every 30 s.` : "Loading counts…"}
        </Text>
        <Button variant="default" size="xs" onClick={() => counts.refetch()} loading={counts.isFetching}>
          Refresh counts
        </Button>
      </Group>
      {counts.error ? <ErrorState error={counts.error} /> : null}
      {graph === null ? (
        <Alert color="red">This flow cannot be drawn: check its nodes and edges.</Alert>
      ) : (
        <div style={{ height: 560 }} data-testid="flow-graph">
          <ReactFlow nodes={graph.nodes} edges={graph.edges} nodeTypes={NODE_TYPES} edgeTypes={EDGE_TYPES} fitView nodesDraggable={false} nodesConnectable={false}>
            <Background />
            <Controls showInteractive={false} />
          </ReactFlow>
        </div>
      )}
      {editable ? (
        <Paper withBorder p="md">
          <Title order={4} mb="xs">
            Edit the flow
          </Title>
          <Text size="sm" c="dimmed" mb="xs">
            The API checks the flow when you save; the node at fault is outlined in red.
          </Text>
          <Textarea
            aria-label="Flow JSON"
            autosize
            minRows={8}
            maxRows={24}
            ff="monospace"
            value={draft ?? JSON.stringify(campaign.flow, null, 2)}
            onChange={(e) => setDraft(e.currentTarget.value)}
          />
          {save.error ? (
            <Alert color="red" mt="xs" role="alert" data-testid="flow-error">
              {errorSentence(save.error)}
            </Alert>
          ) : null}
          <Group mt="xs">
            <Button onClick={() => save.mutate(draft ?? JSON.stringify(campaign.flow))} loading={save.isPending} disabled={draft === null}>
              Save flow
            </Button>
            <Button variant="default" onClick={() => { setDraft(null); setFault(null); save.reset(); }} disabled={draft === null}>
              Discard changes
            </Button>
          </Group>
        </Paper>
      ) : (
        <Text size="sm" c="dimmed">
          The flow is read-only: {campaign.status === "active" ? "pause the campaign to edit it." : "your role or the campaign's status does not allow editing."}
        </Text>
      )}
      <PreviewPanel campaign={campaign} />
    </Stack>
  );
}
