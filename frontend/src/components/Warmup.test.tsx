import { describe, expect, it } from "vitest";
import { warmupSummary } from "./Warmup";

describe("warmupSummary", () => {
  it("shows today's new conversations against the cap and the ramp", () => {
    const got = warmupSummary({
      warmup: { start_per_day: 10, increase_per_day: 5, max_per_day: 40 },
      new_conversations: { today: 20, cap: 20, warmup_day: 3, closed_by_peer_flood: false },
    });
    expect(got).toEqual({ today: "20 / 20 today · warm-up day 3", ramp: "10/day +5/day up to 40/day" });
  });
  it("says when there is no cap", () => {
    const got = warmupSummary({ warmup: null, new_conversations: { today: 2, cap: null, warmup_day: 1, closed_by_peer_flood: false } });
    expect(got).toEqual({ today: "2 / ∞ today · warm-up day 1", ramp: "no warm-up cap" });
  });
});
