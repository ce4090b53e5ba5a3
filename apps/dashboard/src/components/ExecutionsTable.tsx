import { Anchor, Table, Text } from '@mantine/core';
import { Link } from 'react-router';
import type { Execution } from '../api/types';
import { StatusBadge } from './StatusBadge';
import { dateTime, duration } from './format';

/** Executions as rows: state, exit code, duration; each links to its output. `hostOf` names the agent. */
export function ExecutionsTable({ executions, hostOf }: { executions: Execution[]; hostOf: (e: Execution) => string }) {
  if (executions.length === 0) return <Text c="dimmed">No executions yet.</Text>;
  return (
    <Table.ScrollContainer minWidth={360}>
      <Table aria-label="Executions">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Host</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>Exit</Table.Th>
            <Table.Th>Duration</Table.Th>
            <Table.Th visibleFrom="sm">Created</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {executions.map((execution) => (
            <Table.Tr key={execution.id} data-execution={execution.id}>
              <Table.Td>
                <Anchor component={Link} to={`/executions/${execution.id}`}>
                  {hostOf(execution)}
                  {execution.attempt > 1 ? ` (attempt ${execution.attempt})` : ''}
                </Anchor>
              </Table.Td>
              <Table.Td>
                <StatusBadge status={execution.status} />
              </Table.Td>
              <Table.Td>{execution.exitCode ?? '–'}</Table.Td>
              <Table.Td>{duration(execution.durationMs)}</Table.Td>
              <Table.Td visibleFrom="sm">{dateTime(execution.createdAt)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
