import { AppShell, Badge, Burger, Button, Group, NavLink, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { NavLink as RouterLink, Outlet, useLocation } from 'react-router';
import { useAuth } from '../auth/auth-context';
import { LiveUpdates, useLiveConnected } from '../live/live-updates';

const LINKS = [
  { to: '/', label: 'Fleet', end: true },
  { to: '/agents/new', label: 'Add agent', end: true },
  { to: '/runs/new', label: 'Run command', end: true },
  { to: '/runs', label: 'Runs', end: true },
  { to: '/jobs', label: 'Jobs', end: false },
];

function LiveBadge() {
  const connected = useLiveConnected();
  return (
    <Badge variant="dot" color={connected ? 'green' : 'gray'} title={connected ? 'Live updates on' : 'Live updates reconnecting'}>
      {connected ? 'live' : 'offline'}
    </Badge>
  );
}

export function Layout() {
  const [opened, { toggle, close }] = useDisclosure();
  const { me, logout } = useAuth();
  const location = useLocation();
  return (
    <LiveUpdates>
      <AppShell header={{ height: 56 }} navbar={{ width: 200, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
        <AppShell.Header>
          <Group h="100%" px="md" justify="space-between" wrap="nowrap">
            <Group gap="sm" wrap="nowrap">
              <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" />
              <Title order={4}>Outpost</Title>
              <LiveBadge />
            </Group>
            <Group gap="sm" wrap="nowrap">
              <Text size="sm" c="dimmed" visibleFrom="xs">
                {me?.user.username} ({me?.role})
              </Text>
              <Button variant="subtle" size="xs" onClick={() => void logout()}>
                Log out
              </Button>
            </Group>
          </Group>
        </AppShell.Header>
        <AppShell.Navbar p="xs" aria-label="Main">
          {LINKS.map((link) => (
            <NavLink
              key={link.to}
              component={RouterLink}
              to={link.to}
              end={link.end}
              label={link.label}
              active={link.end ? location.pathname === link.to : location.pathname.startsWith(link.to)}
              onClick={close}
            />
          ))}
        </AppShell.Navbar>
        <AppShell.Main>
          <Outlet />
        </AppShell.Main>
      </AppShell>
    </LiveUpdates>
  );
}
