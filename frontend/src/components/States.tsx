import { Alert, Center, Loader, Text } from "@mantine/core";
import { errorSentence } from "../api";

export function Loading({ what }: { what: string }) {
  return (
    <Center p="lg" role="status" aria-live="polite">
      <Loader size="sm" mr="sm" />
      <Text c="dimmed">Loading {what}…</Text>
    </Center>
  );
}

export function ErrorState({ error }: { error: unknown }) {
  return (
    <Alert color="red" role="alert" title="Problem">
      {errorSentence(error)}
    </Alert>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return (
    <Text c="dimmed" p="md" ta="center">
      {children}
    </Text>
  );
}

/** Loading, error or the content of one query. */
export function QueryState<T>({
  query,
  what,
  children,
}: {
  query: { isPending: boolean; error: unknown; data: T | undefined };
  what: string;
  children: (data: T) => React.ReactNode;
}) {
  if (query.isPending) return <Loading what={what} />;
  if (query.error) return <ErrorState error={query.error} />;
  return <>{children(query.data as T)}</>;
}
