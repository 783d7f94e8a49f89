import { AppShell, Button, Group, NavLink, Select, Text, Title } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { Link, Navigate, Outlet, useNavigate, useParams, useRouterState } from "@tanstack/react-router";
import { ApiError, logoutAuthLogoutPost, setCurrentOrg } from "./api";
import { ErrorState, Loading } from "./components/States";
import { useMe } from "./session";

const SECTIONS = [
  { to: "/o/$org/campaigns", label: "Campaigns" },
  { to: "/o/$org/contacts", label: "Contacts" },
  { to: "/o/$org/do-not-contact", label: "Do-not-contact" },
  { to: "/o/$org/reply-rules", label: "Reply rules" },
  { to: "/o/$org/accounts", label: "Telegram accounts" },
  { to: "/o/$org/webhooks", label: "Webhooks" },
  { to: "/o/$org/organization", label: "Organization" },
] as const;

/** The frame of every signed-in page: navigation, organization switcher, sign-out. */
export function Layout() {
  const me = useMe();
  const { org } = useParams({ strict: false }) as { org?: string };
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const path = useRouterState({ select: (s) => s.location.pathname });
  if (me.isPending) return <Loading what="your account" />;
  if (me.error instanceof ApiError && me.error.status === 401) return <Navigate to="/login" />;
  if (me.error) return <ErrorState error={me.error} />;
  const current = org ?? "personal";
  setCurrentOrg(current);
  const options = [
    { value: "personal", label: "Personal mode" },
    ...me.data.organizations.map((o) => ({ value: String(o.organization_id), label: `${o.name} (${o.role})` })),
  ];
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: "sm" }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group>
            <Title order={3}>tgflows</Title>
            <Select
              aria-label="Organization"
              data={options}
              value={current}
              allowDeselect={false}
              onChange={(value) => {
                if (!value) return;
                setCurrentOrg(value);
                queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== "me" });
                navigate({ to: "/o/$org/campaigns", params: { org: value } });
              }}
              w={260}
            />
          </Group>
          <Group>
            <Text size="sm" data-testid="signed-in-as">
              {me.data.email}
            </Text>
            <Button
              variant="default"
              size="xs"
              onClick={async () => {
                await logoutAuthLogoutPost();
                queryClient.clear();
                navigate({ to: "/login" });
              }}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        {SECTIONS.map((s) => (
          <NavLink
            key={s.to}
            renderRoot={(props) => <Link {...props} to={s.to} params={{ org: current }} />}
            label={s.label}
            active={path.startsWith(s.to.replace("$org", current))}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}

/** `/`: the first organization's campaigns, or personal mode. */
export function Home() {
  const me = useMe();
  if (me.isPending) return <Loading what="your account" />;
  if (me.error instanceof ApiError && me.error.status === 401) return <Navigate to="/login" />;
  if (me.error) return <ErrorState error={me.error} />;
  const first = me.data.organizations[0];
  const org = first ? String(first.organization_id) : "personal";
  return <Navigate to="/o/$org/campaigns" params={{ org }} />;
}
