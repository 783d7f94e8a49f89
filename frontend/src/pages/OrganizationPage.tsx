import { Alert, Badge, Paper, Switch, Table, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useParams } from "@tanstack/react-router";
import {
  errorSentence,
  getSettingsOrganizationsOrgIdSettingsGet,
  listMembersOrganizationsOrgIdMembersGet,
  patchSettingsOrganizationsOrgIdSettingsPatch,
  unwrap,
} from "../api";
import { Empty, QueryState } from "../components/States";

export function OrganizationPage() {
  const { org } = useParams({ from: "/o/$org/organization" });
  const queryClient = useQueryClient();
  const orgId = Number(org);
  const personal = org === "personal";
  const members = useQuery({
    queryKey: ["members", org],
    queryFn: () => unwrap(listMembersOrganizationsOrgIdMembersGet({ path: { org_id: orgId } })),
    enabled: !personal,
  });
  const settings = useQuery({
    queryKey: ["org-settings", org],
    queryFn: () => unwrap(getSettingsOrganizationsOrgIdSettingsGet({ path: { org_id: orgId } })),
    enabled: !personal,
  });
  const toggle = useMutation({
    mutationFn: (value: boolean) => unwrap(patchSettingsOrganizationsOrgIdSettingsPatch({ path: { org_id: orgId }, body: { admin_view_enabled: value } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["org-settings", org] }),
  });
  if (personal) return <Empty>Personal mode has no organization. Pick one in the switcher above.</Empty>;
  return (
    <>
      <Title order={2} mb="md">
        Organization
      </Title>
      <Paper withBorder p="md" mb="md">
        <QueryState query={settings} what="settings">
          {(s) => (
            <Switch
              label="Admin view: owners and admins see every member's campaigns"
              checked={s.admin_view_enabled}
              onChange={(e) => toggle.mutate(e.currentTarget.checked)}
              disabled={toggle.isPending}
            />
          )}
        </QueryState>
        {toggle.error ? (
          <Alert color="red" mt="sm" role="alert">
            {errorSentence(toggle.error)}
          </Alert>
        ) : null}
      </Paper>
      <Title order={4} mb="xs">
        Members
      </Title>
      <QueryState query={members} what="members">
        {(page) => (
          <Table striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Email</Table.Th>
                <Table.Th>Role</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {page.items.map((m) => (
                <Table.Tr key={m.user_id}>
                  <Table.Td>{m.email}</Table.Td>
                  <Table.Td>
                    <Badge variant="light">{m.role}</Badge>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
      <Text size="xs" c="dimmed" mt="xs">
        Members are added and their roles changed through the API (owners and admins).
      </Text>
    </>
  );
}
