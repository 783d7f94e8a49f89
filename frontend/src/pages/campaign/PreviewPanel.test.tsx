import { MantineProvider } from "@mantine/core";
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApiError, type PreviewOut } from "../../api";
import { LaunchProblems } from "./LaunchProblems";
import { PreviewResult } from "./PreviewPanel";

const PREVIEW: PreviewOut = {
  campaign_id: 3,
  flow_version: 2,
  contact_id: 9,
  outcome: "completed",
  ended_at: "2030-01-07T10:05:00Z",
  error: null,
  steps: [
    { node_id: "start", node_type: "start", at: "2030-01-07T10:00:00Z", held: [] },
    { node_id: "hello", node_type: "send_message", at: "2030-01-07T10:01:00Z", text: "Hey Ada", variant: "B", held: ["minimum interval 60s"] },
    {
      node_id: "wait",
      node_type: "wait_for_reply",
      at: "2030-01-07T10:01:00Z",
      label: "replied",
      waited_until: "2030-01-07T10:05:00Z",
      reply: { after_node: "hello", text: "tell me more", category: "interested", at: "2030-01-07T10:05:00Z" },
      held: [],
    },
  ],
  unused_replies: [],
  notes: [],
  details: {},
};

function wrap(node: React.ReactNode) {
  return render(<MantineProvider>{node}</MantineProvider>);
}

describe("PreviewResult", () => {
  it("shows each step with its text, variant, branch, reply and why a send waits", () => {
    wrap(<PreviewResult result={PREVIEW} />);
    const rows = screen.getAllByTestId("preview-step");
    expect(rows).toHaveLength(3);
    expect(rows[1].textContent).toContain("Hey Ada");
    expect(rows[1].textContent).toContain("variant B");
    expect(rows[1].textContent).toContain("held: minimum interval 60s");
    expect(rows[2].textContent).toContain("→ replied");
    expect(rows[2].textContent).toContain("(interested)");
  });
});

describe("LaunchProblems", () => {
  it("lists each problem with its node, variable, count and first contacts", () => {
    const problems = [{ kind: "missing_variable", node_id: "city", variable: "custom.city", contacts_count: 7, contacts: [{ id: 1, name: "alice" }, { id: 2, name: "bob" }], fix: "give it a fallback" }];
    wrap(<LaunchProblems error={new ApiError(409, "refused", null, problems)} />);
    const item = screen.getByTestId("launch-problem");
    expect(item.textContent).toContain("Node city");
    expect(item.textContent).toContain("{custom.city}");
    expect(item.textContent).toContain("7 contacts (alice, bob and 5 more)");
  });

  it("shows nothing for an error without problems", () => {
    wrap(<LaunchProblems error={new ApiError(409, "Campaign has no Telegram account")} />);
    expect(screen.queryByTestId("launch-problems")).toBeNull();
  });
});
