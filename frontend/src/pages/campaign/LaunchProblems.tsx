import { Alert, List, Text } from "@mantine/core";
import { ApiError } from "../../api";

export type LaunchProblem = {
  kind?: string;
  node_id?: string;
  variable?: string;
  contacts_count?: number;
  contacts?: { id: number; name: string }[];
  fix?: string;
};

/** The problems a refused launch listed (409 prelaunch_checks_failed), one line each. */
export function LaunchProblems({ error }: { error: unknown }) {
  const problems = error instanceof ApiError ? ((error.problems ?? []) as LaunchProblem[]) : [];
  if (!problems.length) return null;
  return (
    <Alert color="orange" title="Fix these before launching" data-testid="launch-problems">
      <List size="sm" spacing={4}>
        {problems.map((p, i) => {
          const shown = (p.contacts ?? []).map((c) => c.name || `#${c.id}`).join(", ");
          const more = (p.contacts_count ?? 0) - (p.contacts ?? []).length;
          return (
            <List.Item key={i} data-testid="launch-problem">
              <Text size="sm">
                Node <b>{p.node_id}</b>: <code>{`{${p.variable}}`}</code> has no value and no fallback for {p.contacts_count} contact
                {p.contacts_count === 1 ? "" : "s"} ({shown}
                {more > 0 ? ` and ${more} more` : ""}).
              </Text>
              {p.fix ? (
                <Text size="xs" c="dimmed">
                  {p.fix}
                </Text>
              ) : null}
            </List.Item>
          );
        })}
      </List>
    </Alert>
  );
}
