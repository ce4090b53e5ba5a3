import { Button, Group, Title } from '@mantine/core';
import { Link } from 'react-router';

/** A page's title, with its main action as a link button on the right. */
export function PageHeader({ title, action }: { title: string; action?: { to: string; label: string } }) {
  return (
    <Group justify="space-between">
      <Title order={2}>{title}</Title>
      {action && (
        <Button component={Link} to={action.to} size="sm">
          {action.label}
        </Button>
      )}
    </Group>
  );
}
