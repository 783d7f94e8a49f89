import { Badge, Group, Tabs, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useNavigate, useParams } from "@tanstack/react-router";
import { getCampaignCampaignFlowsCampaignIdGet, unwrap } from "../../api";
import { QueryState } from "../../components/States";
import { STATUS_COLORS } from "../../format";
import { ContactsTab } from "./ContactsTab";
import { FlowTab } from "./FlowTab";
import { LogsTab } from "./LogsTab";
import { OverviewTab } from "./OverviewTab";
import { StatisticsTab } from "./StatisticsTab";

export const TABS = ["overview", "flow", "contacts", "statistics", "logs"] as const;
export type Tab = (typeof TABS)[number];
export const REFRESH_MS = 30_000;

export function useCampaign(id: number, org: string) {
  return useQuery({
    queryKey: ["campaign", org, id],
    queryFn: () => unwrap(getCampaignCampaignFlowsCampaignIdGet({ path: { campaign_id: id } })),
    refetchInterval: REFRESH_MS,
  });
}

export function CampaignPage() {
  const { org, id, tab } = useParams({ from: "/o/$org/campaigns/$id/$tab" });
  const navigate = useNavigate();
  const campaignId = Number(id);
  const campaign = useCampaign(campaignId, org);
  const current: Tab = (TABS as readonly string[]).includes(tab) ? (tab as Tab) : "overview";
  return (
    <QueryState query={campaign} what="the campaign">
      {(c) => (
        <>
          <Group mb="md">
            <Title order={2}>{c.name}</Title>
            <Badge size="lg" color={STATUS_COLORS[c.status] ?? "gray"} data-testid="campaign-status">
              {c.status}
            </Badge>
            {!c.enabled ? <Badge color="gray">disabled</Badge> : null}
            {c.deleted_at ? <Badge color="red">deleted</Badge> : null}
            <Text c="dimmed" size="sm">
              #{c.id} · flow v{c.flow_version}
            </Text>
          </Group>
          <Tabs
            value={current}
            onChange={(value) => value && navigate({ to: "/o/$org/campaigns/$id/$tab", params: { org, id, tab: value } })}
            keepMounted={false}
          >
            <Tabs.List mb="md">
              <Tabs.Tab value="overview">Overview</Tabs.Tab>
              <Tabs.Tab value="flow">Flow</Tabs.Tab>
              <Tabs.Tab value="contacts">Contacts</Tabs.Tab>
              <Tabs.Tab value="statistics">Statistics</Tabs.Tab>
              <Tabs.Tab value="logs">Logs</Tabs.Tab>
            </Tabs.List>
            <Tabs.Panel value="overview">
              <OverviewTab campaign={c} org={org} />
            </Tabs.Panel>
            <Tabs.Panel value="flow">
              <FlowTab campaign={c} org={org} />
            </Tabs.Panel>
            <Tabs.Panel value="contacts">
              <ContactsTab campaign={c} org={org} />
            </Tabs.Panel>
            <Tabs.Panel value="statistics">
              <StatisticsTab campaign={c} org={org} />
            </Tabs.Panel>
            <Tabs.Panel value="logs">
              <LogsTab campaign={c} org={org} />
            </Tabs.Panel>
          </Tabs>
        </>
      )}
    </QueryState>
  );
}
