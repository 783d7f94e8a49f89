import { Badge, Group, Paper, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { diagnoseCampaignCampaignFlowsCampaignIdDiagnosisGet, errorSentence, unwrap, type CampaignOut, type DiagnosisOut } from "../../api";
import { when } from "../../format";
import { REFRESH_MS } from "./CampaignPage";

export const VERDICT_COLORS: Record<string, string> = { sending: "green", waiting: "cyan", blocked: "red", done: "blue" };

export const VERDICT_TITLES: Record<string, string> = {
  sending: "Sending",
  waiting: "Waiting: it resumes by itself",
  blocked: "Blocked: someone has to act",
  done: "Done",
};

/** The API's verdict and its reasons, first cause first, as the diagnosis endpoint orders them. */
export function DiagnosisView({ diagnosis }: { diagnosis: DiagnosisOut }) {
  return (
    <Stack gap="sm">
      <Group>
        <Badge size="lg" color={VERDICT_COLORS[diagnosis.verdict] ?? "gray"} data-testid="diagnosis-verdict">
          {diagnosis.verdict}
        </Badge>
        <Text>{VERDICT_TITLES[diagnosis.verdict] ?? diagnosis.verdict}</Text>
        <Text size="xs" c="dimmed">
          checked {when(diagnosis.checked_at)}
        </Text>
      </Group>
      {diagnosis.reasons.map((r, i) => (
        <Paper key={`${r.code}-${i}`} withBorder p="xs" data-testid={`diagnosis-reason-${r.code}`}>
          <Group gap="xs">
            <Badge variant="light" color={r.severity === "info" ? "gray" : (VERDICT_COLORS[r.severity] ?? "gray")}>
              {r.severity}
            </Badge>
            <Text fw={500}>{r.message}</Text>
          </Group>
          {r.action ? <Text size="sm">What to do: {r.action}</Text> : null}
          {r.until ? <Text size="sm" c="dimmed">Clears by itself at {when(r.until)}</Text> : null}
        </Paper>
      ))}
    </Stack>
  );
}

export function DiagnosisPanel({ campaign, org }: { campaign: CampaignOut; org: string }) {
  const diagnosis = useQuery({
    queryKey: ["diagnosis", org, campaign.id],
    queryFn: () => unwrap(diagnoseCampaignCampaignFlowsCampaignIdDiagnosisGet({ path: { campaign_id: campaign.id } })),
    refetchInterval: REFRESH_MS,
  });
  return (
    <Paper withBorder p="md" data-testid="diagnosis">
      <Title order={4} mb="sm">
        Why isn't it sending?
      </Title>
      {diagnosis.isPending ? <Text c="dimmed">Checking…</Text> : null}
      {diagnosis.error ? <Text c="red">{errorSentence(diagnosis.error)}</Text> : null}
      {diagnosis.data ? <DiagnosisView diagnosis={diagnosis.data} /> : null}
    </Paper>
  );
}
