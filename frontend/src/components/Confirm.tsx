import { Button, Group, Modal, Text } from "@mantine/core";
import { useState } from "react";

/** A button that asks before it acts. */
export function ConfirmButton({
  label,
  question,
  onConfirm,
  color,
  variant = "filled",
  loading,
}: {
  label: string;
  question: string;
  onConfirm: () => void;
  color?: string;
  variant?: "filled" | "light" | "outline" | "default";
  loading?: boolean;
}) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button color={color} variant={variant} loading={loading} onClick={() => setOpen(true)}>
        {label}
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title={label} centered>
        <Text mb="md">{question}</Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={() => setOpen(false)}>
            Cancel
          </Button>
          <Button
            color={color}
            data-autofocus
            onClick={() => {
              setOpen(false);
              onConfirm();
            }}
          >
            {label}
          </Button>
        </Group>
      </Modal>
    </>
  );
}
