import { Alert, Button, Group, Stack, Text } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Background, Controls, ReactFlow } from "@xyflow/react";
import { useMemo } from "react";
import {
  campaignAllowedActionsCampaignFlowsCampaignIdAllowedActionsGet,
  campaignFlowCountsCampaignFlowsCampaignIdFlowCountsGet,
  unwrap,
  updateCampaignCampaignFlowsCampaignIdPatch,
  type CampaignOut,
  type FlowIn,
} from "../../api";
import { ErrorState, Loading } from "../../components/States";
import { age } from "../../format";
import { REFRESH_MS } from "./CampaignPage";
import { PreviewPanel } from "./PreviewPanel";
import { FlowEditor } from "./FlowEditor";
import { EDGE_TYPES, NODE_TYPES } from "./FlowGraph";
import { layoutFlow, type FlowJson } from "./flowLayout";

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
  const flow = campaign.flow as unknown as FlowJson;
  const graph = useMemo(() => {
    try {
      return layoutFlow(flow, counts.data);
    } catch {
      return null;
    }
  }, [flow, counts.data]);
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
      {allowed.isPending ? <Loading what="what you may do with this flow" /> : null}
      {allowed.error ? <ErrorState error={allowed.error} /> : null}
      {editable ? (
        <FlowEditor
          key={`${campaign.id}-${campaign.flow_version}`}
          flow={flow}
          counts={counts.data}
          onSave={(next) => unwrap(updateCampaignCampaignFlowsCampaignIdPatch({ ...path, body: { flow: next as unknown as FlowIn } }))}
          onSaved={() => queryClient.invalidateQueries({ queryKey: ["campaign", org, campaign.id] })}
        />
      ) : (
        <>
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
          {allowed.data ? (
            <Text size="sm" c="dimmed">
              The flow is read-only: {campaign.status === "active" ? "pause the campaign to edit it." : "your role or the campaign's status does not allow editing."}
            </Text>
          ) : null}
        </>
      )}
      <PreviewPanel campaign={campaign} />
    </Stack>
  );
}
