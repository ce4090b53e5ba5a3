import { Alert, Button, Code, CopyButton, Group, NumberInput, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { api } from '../api/client';
import type { EnrollmentToken } from '../api/types';
import { useAuth } from '../auth/auth-context';
import { parseLabels } from '../components/format';
import { useAction } from '../components/useAction';

function Command({ title, command }: { title: string; command: string }) {
  return (
    <Stack gap={4}>
      <Group justify="space-between">
        <Text fw={600}>{title}</Text>
        <CopyButton value={command}>
          {({ copied, copy }) => (
            <Button size="xs" variant="light" onClick={copy} color={copied ? 'green' : undefined}>
              {copied ? 'Copied' : `Copy ${title} command`}
            </Button>
          )}
        </CopyButton>
      </Group>
      <Code block data-install={title.toLowerCase()} style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
        {command}
      </Code>
    </Stack>
  );
}

export function AddAgentPage() {
  const { can } = useAuth();
  const [labels, setLabels] = useState('');
  const [maxUses, setMaxUses] = useState<number | string>(1);
  const [hours, setHours] = useState<number | string>(24);
  const create = useAction(
    () =>
      api<EnrollmentToken>('POST', '/enrollment-tokens', {
        labels: parseLabels(labels),
        maxUses: Number(maxUses),
        expiresInSeconds: Math.round(Number(hours) * 3600),
      }),
    { failure: 'Could not create an enrollment token' },
  );
  const token = create.data;
  return (
    <Stack maw={900}>
      <Title order={2}>Add agent</Title>
      <Text>
        Create an enrollment token, then run the install command on the host. The agent dials out to this hub; nothing needs to reach the host.
      </Text>
      {!can('POST', '/api/v1/enrollment-tokens') && <Alert color="yellow">Only admins can create enrollment tokens.</Alert>}
      <Paper withBorder p="md">
        <Stack>
          <TextInput label="Labels for the new agents" placeholder="env=prod, role=web" value={labels} onChange={(e) => setLabels(e.currentTarget.value)} />
          <Group grow>
            <NumberInput label="Uses" min={1} value={maxUses} onChange={setMaxUses} />
            <NumberInput label="Valid for (hours)" min={1} value={hours} onChange={setHours} />
          </Group>
          <Button onClick={() => create.mutate(undefined)} loading={create.isPending} disabled={!can('POST', '/api/v1/enrollment-tokens')}>
            Create enrollment token
          </Button>
        </Stack>
      </Paper>
      {token && (
        <Paper withBorder p="md">
          <Stack>
            <Text>
              Token created{token.expiresAt ? `, valid until ${new Date(token.expiresAt).toLocaleString()}` : ''}
              {token.maxUses ? ` for ${token.maxUses} host${token.maxUses === 1 ? '' : 's'}` : ''}. It is shown only now.
            </Text>
            <Command title="Linux" command={token.installCommands.linux} />
            <Command title="Windows" command={token.installCommands.windows} />
            <Text size="sm" c="dimmed">
              The new agent appears in the fleet as soon as it connects.
            </Text>
          </Stack>
        </Paper>
      )}
    </Stack>
  );
}
