// The agent's unit tests and the system tests use the same tiny CONNECT proxy.
export { startConnectProxy, type ConnectProxy } from '../../apps/agent/src/testing/connect-proxy';
