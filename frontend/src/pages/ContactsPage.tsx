import { Alert, Button, FileButton, Group, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useParams } from "@tanstack/react-router";
import { useState } from "react";
import { errorSentence, importContactsContactsImportPost, listContactsContactsGet, unwrap } from "../api";
import { Empty, QueryState } from "../components/States";
import { when } from "../format";

export function ContactsPage() {
  const { org } = useParams({ from: "/o/$org/contacts" });
  const queryClient = useQueryClient();
  const [search, setSearch] = useState("");
  const [applied, setApplied] = useState("");
  const [cursor, setCursor] = useState<number | undefined>(undefined);
  const contacts = useQuery({
    queryKey: ["contacts-page", org, applied, cursor],
    queryFn: () => unwrap(listContactsContactsGet({ query: { search: applied || undefined, cursor, limit: 50 } })),
  });
  const importCsv = useMutation({
    mutationFn: async (file: File) =>
      unwrap(importContactsContactsImportPost({ body: await file.text(), headers: { "Content-Type": "text/csv" } } as never)),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["contacts-page", org] }),
  });
  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={2}>Contacts</Title>
        <FileButton onChange={(file) => file && importCsv.mutate(file)} accept=".csv,text/csv">
          {(props) => (
            <Button {...props} loading={importCsv.isPending}>
              Import CSV
            </Button>
          )}
        </FileButton>
      </Group>
      {importCsv.data ? (
        <Alert mb="md" color="green">
          Imported {importCsv.data.created}; {importCsv.data.duplicates} duplicates and {importCsv.data.invalid} invalid rows skipped.
        </Alert>
      ) : null}
      {importCsv.error ? (
        <Alert mb="md" color="red" role="alert">
          {errorSentence(importCsv.error)}
        </Alert>
      ) : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setCursor(undefined);
          setApplied(search);
        }}
      >
        <Group mb="md" align="end">
          <TextInput label="Search" value={search} onChange={(e) => setSearch(e.currentTarget.value)} />
          <Button type="submit" variant="default">
            Search
          </Button>
          <Text size="xs" c="dimmed">
            CSV columns: username, phone, telegram_user_id, first_name, last_name, tags
          </Text>
        </Group>
      </form>
      <QueryState query={contacts} what="contacts">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>No contacts{applied ? " match" : " yet: import a CSV"}.</Empty>
          ) : (
            <>
              <Table striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Username</Table.Th>
                    <Table.Th>Phone</Table.Th>
                    <Table.Th>Tags</Table.Th>
                    <Table.Th>Created</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {page.items.map((c) => (
                    <Table.Tr key={c.id}>
                      <Table.Td>{[c.first_name, c.last_name].filter(Boolean).join(" ")}</Table.Td>
                      <Table.Td>{c.username ? `@${c.username}` : ""}</Table.Td>
                      <Table.Td>{c.phone ?? ""}</Table.Td>
                      <Table.Td>{c.tags.join(", ")}</Table.Td>
                      <Table.Td>{when(c.created_at)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Group mt="md">
                <Button variant="default" disabled={cursor === undefined} onClick={() => setCursor(undefined)}>
                  First page
                </Button>
                <Button variant="default" disabled={!page.next_cursor} onClick={() => setCursor(Number(page.next_cursor))}>
                  Next page
                </Button>
              </Group>
            </>
          )
        }
      </QueryState>
    </>
  );
}
