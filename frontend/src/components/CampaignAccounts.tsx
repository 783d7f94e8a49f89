import { Badge, Group, Stack, Text, Title } from "@mantine/core";
import type { AccountSummary } from "../api";
import { when } from "../format";

// A campaign's accounts when it rotates over several: each lead hears from one of them.
export function CampaignAccounts({ accounts }: { accounts: AccountSummary[] }) {
  if (accounts.length < 2) return null;
  return (
    <>
      <Title order={5} mt="md" mb="xs">
        Rotation: {accounts.length} accounts
      </Title>
      <Text size="xs" c="dimmed" mb="xs">
        Each lead is pinned to one account by free capacity; an unhealthy account's leads wait for it.
      </Text>
      <Stack gap={4} data-testid="campaign-accounts">
        {accounts.map((a) => (
          <Group key={a.id} gap="xs" data-testid={`campaign-account-${a.id}`}>
            <Badge color={a.status === "connected" ? "green" : a.status === "unauthorized" || a.status === "banned" ? "red" : "yellow"}>{a.status}</Badge>
            <Text size="sm">{a.display_name ?? a.phone}</Text>
            {a.cooldown_until && new Date(a.cooldown_until) > new Date() ? (
              <Text size="xs" c="dimmed">
                cooling down until {when(a.cooldown_until)}
              </Text>
            ) : null}
          </Group>
        ))}
      </Stack>
    </>
  );
}
