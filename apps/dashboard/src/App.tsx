import { Center, Loader } from '@mantine/core';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { useAuth } from './auth/auth-context';
import { Layout } from './layout/Layout';
import { AddAgentPage } from './pages/AddAgentPage';
import { AgentPage } from './pages/AgentPage';
import { ExecutionPage } from './pages/ExecutionPage';
import { FleetPage } from './pages/FleetPage';
import { JobEditPage } from './pages/JobEditPage';
import { JobsPage } from './pages/JobsPage';
import { LoginPage } from './pages/LoginPage';
import { NewRunPage } from './pages/NewRunPage';
import { RunPage } from './pages/RunPage';
import { RunsPage } from './pages/RunsPage';

export function App() {
  const { me } = useAuth();
  const location = useLocation();
  if (me === undefined) {
    return (
      <Center h="100vh">
        <Loader aria-label="Restoring your session" />
      </Center>
    );
  }
  if (me === null) {
    if (location.pathname === '/login') return <LoginPage />;
    return <Navigate to="/login" replace state={{ from: `${location.pathname}${location.search}` }} />;
  }
  return (
    <Routes>
      <Route path="/login" element={<Navigate to="/" replace />} />
      <Route element={<Layout />}>
        <Route path="/" element={<FleetPage />} />
        <Route path="/agents/new" element={<AddAgentPage />} />
        <Route path="/agents/:id" element={<AgentPage />} />
        <Route path="/runs" element={<RunsPage />} />
        <Route path="/runs/new" element={<NewRunPage />} />
        <Route path="/runs/:id" element={<RunPage />} />
        <Route path="/executions/:id" element={<ExecutionPage />} />
        <Route path="/jobs" element={<JobsPage />} />
        <Route path="/jobs/new" element={<JobEditPage />} />
        <Route path="/jobs/:id" element={<JobEditPage />} />
        <Route path="*" element={<Navigate to="/" replace />} />
      </Route>
    </Routes>
  );
}
