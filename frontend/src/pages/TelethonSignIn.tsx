// Connecting a Telethon account step by step: phone and app keys, the code, the 2FA password.
import { Alert, Button, Group, Modal, NumberInput, PasswordInput, Stepper, Text, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import {
  errorSentence,
  startLoginTelegramAccountsTelethonLoginPost,
  submitCodeTelegramAccountsAccountIdLoginCodePost,
  submitPasswordTelegramAccountsAccountIdLoginPasswordPost,
  unwrap,
  type AccountOut,
} from "../api";

/** The step an account's sign-in is at, from the API's status and reason. */
export function signInStep(account: Pick<AccountOut, "status" | "status_reason"> | null): number {
  if (account === null) return 0;
  if (account.status === "connected") return 3;
  if (account.status_reason === "password_required") return 2;
  return 1;
}

export function TelethonSignIn({
  opened,
  onClose,
  resume,
  org,
}: {
  opened: boolean;
  onClose: () => void;
  /** An account already waiting for its code or password. */
  resume: AccountOut | null;
  org: string;
}) {
  const queryClient = useQueryClient();
  const [account, setAccount] = useState<AccountOut | null>(resume);
  const [phone, setPhone] = useState("");
  const [apiId, setApiId] = useState<string | number>("");
  const [apiHash, setApiHash] = useState("");
  const [name, setName] = useState("");
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const done = (a: AccountOut) => {
    setAccount(a);
    queryClient.invalidateQueries({ queryKey: ["accounts", org] });
  };
  const start = useMutation({
    mutationFn: () =>
      unwrap(
        startLoginTelegramAccountsTelethonLoginPost({
          body: { phone: phone.trim(), api_id: Number(apiId), api_hash: apiHash.trim(), display_name: name.trim() || null },
        }),
      ),
    onSuccess: done,
  });
  const submitCode = useMutation({
    mutationFn: () => unwrap(submitCodeTelegramAccountsAccountIdLoginCodePost({ path: { account_id: account!.id }, body: { code: code.trim() } })),
    onSuccess: done,
  });
  const submitPassword = useMutation({
    mutationFn: () => unwrap(submitPasswordTelegramAccountsAccountIdLoginPasswordPost({ path: { account_id: account!.id }, body: { password } })),
    onSuccess: done,
  });
  const step = signInStep(account);
  const error = start.error ?? submitCode.error ?? submitPassword.error;
  return (
    <Modal opened={opened} onClose={onClose} title="Connect a Telegram account (Telethon)" size="lg" centered>
      <Stepper active={step} size="sm" mb="md">
        <Stepper.Step label="Phone" description="and app keys" />
        <Stepper.Step label="Code" description="sent by Telegram" />
        <Stepper.Step label="Password" description="if 2FA is on" />
        <Stepper.Completed>
          <Alert color="green" data-testid="signin-done">
            {account?.display_name ?? account?.phone} is connected and can send.
          </Alert>
        </Stepper.Completed>
      </Stepper>
      {error ? (
        <Alert color="red" role="alert" mb="sm" data-testid="signin-error">
          {errorSentence(error)}
        </Alert>
      ) : null}
      {step === 0 ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            start.mutate();
          }}
        >
          <TextInput label="Phone number" placeholder="+15550100" value={phone} onChange={(e) => setPhone(e.currentTarget.value)} required data-autofocus />
          <Group grow>
            <NumberInput label="api_id" value={apiId} onChange={setApiId} min={1} allowDecimal={false} required />
            <TextInput label="api_hash" value={apiHash} onChange={(e) => setApiHash(e.currentTarget.value)} required />
          </Group>
          <TextInput label="Display name (optional)" value={name} onChange={(e) => setName(e.currentTarget.value)} />
          <Text size="xs" c="dimmed" mt={4}>
            api_id and api_hash come from my.telegram.org; Telegram then sends a code to the phone.
          </Text>
          <Group justify="flex-end" mt="md">
            <Button type="submit" loading={start.isPending}>
              Send code
            </Button>
          </Group>
        </form>
      ) : null}
      {step === 1 ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            submitCode.mutate();
          }}
        >
          <Text size="sm" mb="xs">
            Telegram sent a code to {account?.phone}. Type it here.
          </Text>
          <TextInput label="Code" value={code} onChange={(e) => setCode(e.currentTarget.value)} required autoComplete="one-time-code" data-autofocus />
          <Group justify="flex-end" mt="md">
            <Button type="submit" loading={submitCode.isPending}>
              Sign in
            </Button>
          </Group>
        </form>
      ) : null}
      {step === 2 ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            submitPassword.mutate();
          }}
        >
          <Text size="sm" mb="xs">
            This account has two-step verification. Type its password.
          </Text>
          <PasswordInput label="2FA password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} required data-autofocus />
          <Group justify="flex-end" mt="md">
            <Button type="submit" loading={submitPassword.isPending}>
              Finish sign-in
            </Button>
          </Group>
        </form>
      ) : null}
      {step === 3 ? (
        <Group justify="flex-end">
          <Button onClick={onClose}>Close</Button>
        </Group>
      ) : null}
    </Modal>
  );
}
