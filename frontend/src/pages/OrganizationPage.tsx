import { Alert, Badge, Button, Group, Paper, Select, Switch, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useParams } from "@tanstack/react-router";
import { useState } from "react";
import {
  addMemberOrganizationsOrgIdMembersPost,
  changeMemberOrganizationsOrgIdMembersUserIdPatch,
  errorSentence,
  getSettingsOrganizationsOrgIdSettingsGet,
  listMembersOrganizationsOrgIdMembersGet,
  patchSettingsOrganizationsOrgIdSettingsPatch,
  removeMemberOrganizationsOrgIdMembersUserIdDelete,
  unwrap,
  type Role,
} from "../api";
import { ConfirmButton } from "../components/Confirm";
import { Empty, QueryState } from "../components/States";
import { useMe } from "../session";

/** Members and settings; every control shown only when the API says the caller may use it. */
export function OrganizationPage() {
  const { org } = useParams({ from: "/o/$org/organization" });
  const queryClient = useQueryClient();
  const me = useMe();
  const orgId = Number(org);
  const personal = org === "personal";
  const membership = me.data?.organizations.find((o) => String(o.organization_id) === org);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<string | null>(null);
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
  const refresh = () => {
    queryClient.invalidateQueries({ queryKey: ["members", org] });
    queryClient.invalidateQueries({ queryKey: ["me"] });
  };
  const add = useMutation({
    mutationFn: () =>
      unwrap(addMemberOrganizationsOrgIdMembersPost({ path: { org_id: orgId }, body: { email: email.trim(), role: (role ?? "member") as Role } })),
    onSuccess: () => {
      setEmail("");
      refresh();
    },
  });
  const change = useMutation({
    mutationFn: (v: { userId: number; role: Role }) =>
      unwrap(changeMemberOrganizationsOrgIdMembersUserIdPatch({ path: { org_id: orgId, user_id: v.userId }, body: { role: v.role } })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (userId: number) => unwrap(removeMemberOrganizationsOrgIdMembersUserIdDelete({ path: { org_id: orgId, user_id: userId } })),
    onSuccess: refresh,
  });
  if (personal) return <Empty>Personal mode has no organization. Pick one in the switcher above.</Empty>;
  const addable = membership?.addable_roles ?? [];
  const error = add.error ?? change.error ?? remove.error;
  return (
    <>
      <Title order={2} mb="md">
        Organization {membership ? `· ${membership.name}` : ""}
      </Title>
      <Paper withBorder p="md" mb="md">
        <QueryState query={settings} what="settings">
          {(s) => (
            <Switch
              label="Admin view: owners and admins see every member's campaigns"
              checked={s.admin_view_enabled}
              onChange={(e) => toggle.mutate(e.currentTarget.checked)}
              disabled={toggle.isPending || !membership?.can_manage_settings}
              description={membership?.can_manage_settings ? undefined : "Only owners and admins change this."}
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
      {addable.length > 0 ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate();
          }}
        >
          <Group align="end" mb="sm">
            <TextInput label="Add a member by email" placeholder="person@example.com" value={email} onChange={(e) => setEmail(e.currentTarget.value)} required w={300} />
            <Select label="Role" data={addable} value={role ?? (addable.includes("member") ? "member" : addable[0])} onChange={setRole} allowDeselect={false} w={140} />
            <Button type="submit" loading={add.isPending}>
              Add member
            </Button>
          </Group>
        </form>
      ) : null}
      {error ? (
        <Alert color="red" mb="sm" role="alert" data-testid="member-error">
          {errorSentence(error)}
        </Alert>
      ) : null}
      <QueryState query={members} what="members">
        {(page) => (
          <Table striped data-testid="members-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Email</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {page.items.map((m) => (
                <Table.Tr key={m.user_id} data-testid={`member-${m.email}`}>
                  <Table.Td>
                    {m.email}
                    {m.user_id === me.data?.id ? <Text span c="dimmed"> (you)</Text> : null}
                  </Table.Td>
                  <Table.Td>
                    {(m.assignable_roles ?? []).length > 0 ? (
                      <Select
                        aria-label={`Role of ${m.email}`}
                        data={[m.role, ...(m.assignable_roles ?? [])]}
                        value={m.role}
                        allowDeselect={false}
                        onChange={(v) => v && v !== m.role && change.mutate({ userId: m.user_id, role: v as Role })}
                        w={140}
                        size="xs"
                      />
                    ) : (
                      <Badge variant="light">{m.role}</Badge>
                    )}
                  </Table.Td>
                  <Table.Td>
                    {m.removable ? (
                      <ConfirmButton
                        label={m.user_id === me.data?.id ? "Leave" : "Remove"}
                        variant="light"
                        color="red"
                        question={
                          m.user_id === me.data?.id
                            ? "Leave this organization? You will no longer see its campaigns."
                            : `Remove ${m.email} from the organization?`
                        }
                        onConfirm={() => remove.mutate(m.user_id)}
                      />
                    ) : null}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
      {addable.length === 0 ? (
        <Text size="xs" c="dimmed" mt="xs">
          Only owners and admins add members and change roles.
        </Text>
      ) : null}
    </>
  );
}
