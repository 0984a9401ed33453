// Secrets on the account pages: a box that shows a new secret once with a
// copy button, and a password input with a generator.
import { Alert, Button, Code, CopyButton, Group, PasswordInput, Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";

import { minPasswordLength } from "../api/account";

// Shows SECRET, which the server returns only in this response.
export function SecretOnce({
  label,
  secret,
  testId,
  children,
}: {
  label: string;
  secret: string;
  testId: string;
  children?: ReactNode;
}) {
  return (
    <Stack gap="sm">
      <Alert color="yellow" variant="light" title="Copy it now: it is shown only once">
        <Text size="sm">
          smmhub keeps only a hash of this secret, so nobody can show it again. Store it in your
          password manager or secret store before you close this box.
          {children ? " " : null}
          {children}
        </Text>
      </Alert>
      <Text size="sm" fw={500} id={`${testId}-label`}>
        {label}
      </Text>
      <Code
        block
        data-testid={testId}
        aria-labelledby={`${testId}-label`}
        style={{ wordBreak: "break-all", whiteSpace: "pre-wrap" }}
      >
        {secret}
      </Code>
      <Group>
        <CopyButton value={secret}>
          {({ copied, copy }) => (
            <Button
              variant={copied ? "light" : "filled"}
              color={copied ? "teal" : undefined}
              onClick={copy}
            >
              {copied ? "Copied" : "Copy to clipboard"}
            </Button>
          )}
        </CopyButton>
      </Group>
    </Stack>
  );
}

const passwordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

// Returns a random password of LENGTH characters from letters and digits
// that are hard to confuse (no 0/O, 1/l/I). 20 of them carry about 115 bits.
export function generatePassword(length = 20): string {
  const characters: string[] = [];
  // Rejection sampling keeps every character equally likely.
  const limit = 256 - (256 % passwordAlphabet.length);
  while (characters.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
    for (const byte of bytes) {
      if (byte < limit && characters.length < length) {
        characters.push(passwordAlphabet[byte % passwordAlphabet.length]);
      }
    }
  }
  return characters.join("");
}

// A new user's initial password, with a button that fills in a generated one
// and shows it so that it can be copied and passed on.
export function NewPasswordInput({
  value,
  onChange,
  visible,
  onVisibleChange,
}: {
  value: string;
  onChange: (value: string) => void;
  visible: boolean;
  onVisibleChange: (visible: boolean) => void;
}) {
  const tooShort = value.length > 0 && value.length < minPasswordLength;
  return (
    <Stack gap={6}>
      <PasswordInput
        label="Initial password"
        description={`At least ${minPasswordLength} characters. Pass it on privately.`}
        autoComplete="new-password"
        required
        minLength={minPasswordLength}
        value={value}
        visible={visible}
        onVisibilityChange={onVisibleChange}
        error={
          tooShort ? `${minPasswordLength - value.length} more characters are needed.` : undefined
        }
        onChange={(event) => onChange(event.currentTarget.value)}
      />
      <Group gap="xs">
        <Button
          variant="light"
          size="xs"
          onClick={() => {
            onChange(generatePassword());
            onVisibleChange(true);
          }}
        >
          Generate a password
        </Button>
        <CopyButton value={value}>
          {({ copied, copy }) => (
            <Button variant="subtle" size="xs" onClick={copy} disabled={value.length === 0}>
              {copied ? "Copied" : "Copy password"}
            </Button>
          )}
        </CopyButton>
      </Group>
    </Stack>
  );
}
