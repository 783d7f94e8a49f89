import { Text } from "@mantine/core";
import type { AccountOut } from "../api";

// Today's new conversations of an account against its warm-up cap, and the ramp.
export function warmupSummary(a: Pick<AccountOut, "warmup" | "new_conversations">): { today: string; ramp: string } {
  const n = a.new_conversations;
  const w = a.warmup;
  const today = n ? `${n.today} / ${n.cap ?? "∞"} today · warm-up day ${n.warmup_day}${n.closed_by_peer_flood ? " · closed after PEER_FLOOD" : ""}` : "—";
  const ramp = w ? `${w.start_per_day}/day +${w.increase_per_day}/day up to ${w.max_per_day}/day` : "no warm-up cap";
  return { today, ramp };
}

export function WarmupCell({ account }: { account: AccountOut }) {
  const { today, ramp } = warmupSummary(account);
  return (
    <div data-testid={`account-warmup-${account.id}`}>
      <Text size="sm">{today}</Text>
      <Text size="xs" c="dimmed">
        {ramp}
      </Text>
    </div>
  );
}
