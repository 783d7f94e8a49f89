import { Button, Group, Text } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import {
  activitiesCampaignFlowsCampaignIdActivitiesGet,
  campaignTimeseriesCampaignFlowsCampaignIdStatisticsTimeseriesGet,
  statisticsCampaignFlowsCampaignIdStatisticsGet,
  unwrap,
  type CampaignOut,
} from "../../api";
import { ErrorState, Loading } from "../../components/States";
import { age } from "../../format";
import { REFRESH_MS } from "./CampaignPage";
import { StatisticsView, type Stats } from "./StatisticsView";

export function StatisticsTab({ campaign, org }: { campaign: CampaignOut; org: string }) {
  const path = { path: { campaign_id: campaign.id } };
  const queryClient = useQueryClient();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const key = ["statistics", org, campaign.id];
  const stats = useQuery({
    queryKey: key,
    queryFn: () => unwrap(statisticsCampaignFlowsCampaignIdStatisticsGet({ ...path, query: { refresh: false } })),
    refetchInterval: REFRESH_MS,
  });
  const series = useQuery({
    queryKey: ["series", org, campaign.id],
    queryFn: () => unwrap(campaignTimeseriesCampaignFlowsCampaignIdStatisticsTimeseriesGet({ ...path, query: { bucket: "hour" } })),
    refetchInterval: REFRESH_MS,
  });
  const activities = useQuery({
    queryKey: ["activities", org, campaign.id],
    queryFn: () => unwrap(activitiesCampaignFlowsCampaignIdActivitiesGet(path)),
    refetchInterval: REFRESH_MS,
  });
  const [refreshing, setRefreshing] = useState(false);
  const refresh = async () => {
    setRefreshing(true);
    try {
      const fresh = await unwrap(statisticsCampaignFlowsCampaignIdStatisticsGet({ ...path, query: { refresh: true } }));
      queryClient.setQueryData(key, fresh);
      await Promise.all([series.refetch(), activities.refetch()]);
    } finally {
      setRefreshing(false);
    }
  };
  const error = stats.error ?? series.error ?? activities.error;
  return (
    <>
      <Group justify="space-between" mb="md">
        <Text size="sm" c="dimmed" data-testid="stats-age">
          {stats.data
            ? `Numbers computed ${age(Date.parse(stats.data.computed_at), now)}${stats.data.cached ? " (cached)" : ""}; the page reloads them every 30 s.`
            : ""}
        </Text>
        <Button onClick={refresh} loading={refreshing} variant="default">
          Refresh
        </Button>
      </Group>
      {error ? <ErrorState error={error} /> : null}
      {stats.isPending || series.isPending || activities.isPending ? (
        <Loading what="statistics" />
      ) : stats.data && series.data && activities.data ? (
        <StatisticsView stats={stats.data.statistics as Stats} series={series.data.points} activities={activities.data.items} abTests={stats.data.ab_tests ?? []} />
      ) : null}
    </>
  );
}
