import { Alert, Badge, Group, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import {
  campaignAllowedActionsCampaignFlowsCampaignIdAllowedActionsGet,
  deleteCampaignCampaignFlowsCampaignIdDelete,
  disableCampaignCampaignFlowsCampaignIdDisablePost,
  duplicateCampaignCampaignFlowsCampaignIdDuplicatePost,
  enableCampaignCampaignFlowsCampaignIdEnablePost,
  errorSentence,
  launchCampaignCampaignFlowsCampaignIdLaunchPost,
  pauseCampaignCampaignFlowsCampaignIdPausePost,
  restoreCampaignCampaignFlowsCampaignIdRestorePost,
  stopCampaignCampaignFlowsCampaignIdStopPost,
  unwrap,
  type CampaignOut,
} from "../../api";
import { ConfirmButton } from "../../components/Confirm";
import { when } from "../../format";
import { DiagnosisPanel } from "./DiagnosisPanel";
import { CampaignAccounts } from "../../components/CampaignAccounts";
import { LaunchProblems } from "./LaunchProblems";

type Path = { path: { campaign_id: number } };
type ActionSpec = { label: string; question: string; color?: string; call: (p: Path) => Promise<{ data?: unknown; error?: unknown; response?: Response }> };

// The buttons the API may allow, in display order; which ones show is the API's answer.
const ACTIONS: Record<string, ActionSpec> = {
  launch: { label: "Launch", question: "Start sending to this campaign's contacts?", color: "green", call: (p) => launchCampaignCampaignFlowsCampaignIdLaunchPost(p) },
  pause: { label: "Pause", question: "Hold every contact where it is?", color: "yellow", call: (p) => pauseCampaignCampaignFlowsCampaignIdPausePost(p) },
  stop: { label: "Stop", question: "Cancel every execution for good? This cannot be undone.", color: "red", call: (p) => stopCampaignCampaignFlowsCampaignIdStopPost(p) },
  enable: { label: "Enable", question: "Allow this campaign to be launched again?", call: (p) => enableCampaignCampaignFlowsCampaignIdEnablePost(p) },
  disable: { label: "Disable", question: "Cancel active executions and refuse launches?", color: "orange", call: (p) => disableCampaignCampaignFlowsCampaignIdDisablePost(p) },
  duplicate: { label: "Duplicate", question: "Copy the flow and settings into a new draft?", call: (p) => duplicateCampaignCampaignFlowsCampaignIdDuplicatePost(p) },
  delete: { label: "Delete", question: "Move this campaign to the trash? Statistics and logs are kept.", color: "red", call: (p) => deleteCampaignCampaignFlowsCampaignIdDelete(p) },
  restore: { label: "Restore", question: "Bring this campaign back from the trash?", call: (p) => restoreCampaignCampaignFlowsCampaignIdRestorePost(p) },
};

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text>{children}</Text>
    </div>
  );
}

export function OverviewTab({ campaign, org }: { campaign: CampaignOut; org: string }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const path = { path: { campaign_id: campaign.id } };
  const allowed = useQuery({
    queryKey: ["allowed", org, campaign.id, campaign.status, campaign.enabled, campaign.deleted_at],
    queryFn: () => unwrap(campaignAllowedActionsCampaignFlowsCampaignIdAllowedActionsGet(path)),
  });
  const account = campaign.account ?? null;
  const creator = campaign.creator ?? null;
  const act = useMutation({
    mutationFn: async (name: string) => ({ name, result: await unwrap(ACTIONS[name].call(path)) }),
    onSuccess: ({ name, result }) => {
      queryClient.invalidateQueries({ queryKey: ["campaign", org, campaign.id] });
      queryClient.invalidateQueries({ queryKey: ["allowed", org, campaign.id] });
      queryClient.invalidateQueries({ queryKey: ["campaigns", org] });
      queryClient.invalidateQueries({ queryKey: ["diagnosis", org, campaign.id] });
      if (name === "duplicate" && result && typeof result === "object" && "id" in result) {
        navigate({ to: "/o/$org/campaigns/$id/$tab", params: { org, id: String(result.id), tab: "overview" } });
      }
      if (name === "delete") navigate({ to: "/o/$org/campaigns", params: { org } });
    },
  });
  const actions = allowed.data?.allowed_actions.filter((a) => a in ACTIONS) ?? [];
  return (
    <Stack>
      <Group data-testid="campaign-actions">
        {allowed.isPending ? <Text c="dimmed">Loading actions…</Text> : null}
        {allowed.error ? <Text c="red">{errorSentence(allowed.error)}</Text> : null}
        {Object.keys(ACTIONS)
          .filter((name) => actions.includes(name as never))
          .map((name) => (
            <ConfirmButton
              key={name}
              label={ACTIONS[name].label}
              question={ACTIONS[name].question}
              color={ACTIONS[name].color}
              loading={act.isPending && act.variables === name}
              onConfirm={() => act.mutate(name)}
            />
          ))}
        {allowed.data && actions.length === 0 ? <Text c="dimmed">No actions are open to you on this campaign.</Text> : null}
      </Group>
      {act.error ? (
        <Alert color="red" role="alert" data-testid="action-error">
          {errorSentence(act.error)}
        </Alert>
      ) : null}
      <LaunchProblems error={act.error} />
      <DiagnosisPanel campaign={campaign} org={org} />
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Paper withBorder p="md">
          <Title order={4} mb="sm">
            Campaign
          </Title>
          <Stack gap="xs">
            <Field label="Description">{campaign.description || "—"}</Field>
            <Field label="Status">
              {campaign.status}
              {campaign.enabled ? "" : " (disabled: launches are refused)"}
              {campaign.status_reason ? <Text span c="dimmed" data-testid="status-reason">{` — ${campaign.status_reason}`}</Text> : null}
            </Field>
            <Field label="Creator">
              <span data-testid="campaign-creator">{creator ? (creator.name ? `${creator.name} <${creator.email}>` : creator.email) : `user #${campaign.created_by}`}</span>
            </Field>
            <Field label="Organization">{campaign.organization_id === null ? "Personal" : `#${campaign.organization_id}`}</Field>
            <Field label="Timezone">{campaign.timezone}</Field>
            <Field label="Scheduled start">{when(campaign.scheduled_start_at)}</Field>
            <Field label="On reply">{String(campaign.response_handling.on_reply ?? "stop")}</Field>
          </Stack>
        </Paper>
        <Paper withBorder p="md">
          <Title order={4} mb="sm">
            Telegram account
          </Title>
          {account === null ? (
            <Text c="dimmed">No account: the campaign cannot be launched.</Text>
          ) : (
            <Stack gap="xs" data-testid="campaign-account">
              <Field label="Account">
                {account.display_name ?? account.phone} {account.display_name ? <Text span c="dimmed">{account.phone}</Text> : null}
              </Field>
              <Field label="Health">
                <Badge color={account.status === "connected" ? "green" : "red"}>{account.status}</Badge> {account.status_reason ?? ""}
              </Field>
              <Field label="Flood wait until">{when(account.flood_wait_until)}</Field>
              <Field label="Cooldown until">{when(account.cooldown_until)}</Field>
            </Stack>
          )}
          <CampaignAccounts accounts={campaign.accounts ?? []} />
          <Title order={4} mt="md" mb="sm">
            Timestamps
          </Title>
          <Stack gap="xs">
            <Field label="Created">{when(campaign.created_at)}</Field>
            <Field label="Updated">{when(campaign.updated_at)}</Field>
            {campaign.deleted_at ? <Field label="Deleted">{when(campaign.deleted_at)}</Field> : null}
          </Stack>
        </Paper>
      </SimpleGrid>
    </Stack>
  );
}
