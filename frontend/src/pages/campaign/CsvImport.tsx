// A CSV file into the campaign: imported into the contact list, then every row's contact added.
import { Alert, Button, FileInput, Group, Text } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { addCampaignContactsCampaignFlowsCampaignIdContactsPost, errorSentence, importContactsContactsImportPost, unwrap, type ContactIn } from "../../api";

export type CsvImportResult = { created: number; duplicates: number; invalid: number; errors: string[]; added: number; skipped: number; busy: number };

/** What happened, in one sentence. */
export function importSummary(r: CsvImportResult): string {
  const parts = [`${r.added} added to the campaign`];
  if (r.skipped) parts.push(`${r.skipped} already in it`);
  if (r.busy) parts.push(`${r.busy} skipped: in conversation in another campaign`);
  parts.push(`${r.created} new in your contacts`);
  if (r.invalid) parts.push(`${r.invalid} invalid lines`);
  return parts.join(", ") + ".";
}

export function CsvImport({ campaignId, onDone }: { campaignId: number; onDone: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const run = useMutation({
    mutationFn: async (f: File): Promise<CsvImportResult> => {
      const imported = await unwrap(
        importContactsContactsImportPost({
          // The route also takes text/csv; the generated type names only its JSON form.
          body: (await f.text()) as unknown as ContactIn[],
          query: { return_ids: true },
          headers: { "Content-Type": "text/csv" },
          bodySerializer: (body: unknown) => body as string,
        }),
      );
      const ids = imported.contact_ids ?? [];
      const added = ids.length
        ? await unwrap(addCampaignContactsCampaignFlowsCampaignIdContactsPost({ path: { campaign_id: campaignId }, body: { contact_ids: ids } }))
        : { added: 0, skipped: 0, in_other_campaign: 0 };
      return { ...imported, added: added.added, skipped: added.skipped, busy: added.in_other_campaign ?? 0 };
    },
    onSuccess: () => {
      setFile(null);
      onDone();
    },
  });
  return (
    <>
      <Group align="end">
        <FileInput
          label="Import a CSV into this campaign"
          description="Header row: username, phone, telegram_user_id, first_name, last_name, tags; other columns become custom fields."
          placeholder="Pick a .csv file"
          accept=".csv,text/csv"
          value={file}
          onChange={setFile}
          clearable
          w={420}
        />
        <Button onClick={() => file && run.mutate(file)} disabled={!file} loading={run.isPending}>
          Import CSV
        </Button>
      </Group>
      {run.error ? (
        <Alert color="red" role="alert">
          {errorSentence(run.error)}
        </Alert>
      ) : null}
      {run.data ? (
        <Alert color={run.data.invalid ? "yellow" : "green"} data-testid="import-result">
          <Text size="sm">{importSummary(run.data)}</Text>
          {run.data.errors.slice(0, 5).map((e) => (
            <Text key={e} size="xs" c="dimmed">
              {e}
            </Text>
          ))}
        </Alert>
      ) : null}
    </>
  );
}
