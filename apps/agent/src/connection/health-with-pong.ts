import type { HealthSample, Welcome } from '@outpost/protocol';
import type { Manager } from 'socket.io-client';
import { DEFAULT_HEALTH_INTERVAL_SECONDS } from '../health/health-reporter';

/** The TCP socket under engine.io's WebSocket transport (ws keeps it as `_socket`). */
interface CorkableTransport {
  ws?: { _socket?: { cork(): void; uncork(): void } };
}

/**
 * Sends health samples in the same TCP segment as the pong that answers the hub's next ping.
 *
 * At fleet scale each frame the hub reads costs it a wake-up and a read of its own, and a sample
 * sent on the agent's own timer arrives apart from the pong: at 10,000 idle agents, samples were
 * ~40 % of the hub's CPU (architecture.md, "Fifth pass"). When the hub pings at least as often as
 * the agent samples (a 1.3+ hub pings every heartbeat interval), a sample waits for the next ping
 * and is written just before its pong with the socket corked across both, so the hub reads the
 * two frames at once. The first sample of a connection goes at once, and so does a sample that
 * finds the last one still waiting (pings slower than the welcome said). Without the corkable
 * socket (another transport or ws version) the two frames go apart, which is still correct.
 */
export class HealthWithPong {
  private waiting: HealthSample | undefined;
  private withPongs = false;
  private sentOnThisConnection = false;

  constructor(
    manager: Manager,
    private readonly emit: (sample: HealthSample) => void,
  ) {
    manager.on('open', () => {
      const engine = manager.engine;
      engine.on('packet', (packet) => {
        if (packet.type === 'ping') this.sendWaiting(engine.transport as unknown as CorkableTransport);
      });
    });
  }

  /** A new connection: whether its hub's pings come at least as often as samples are taken. */
  welcome(welcome: Welcome): void {
    const healthIntervalSeconds = welcome.healthIntervalSeconds ?? DEFAULT_HEALTH_INTERVAL_SECONDS;
    this.withPongs = welcome.transportHeartbeat === true && welcome.heartbeatIntervalSeconds <= healthIntervalSeconds;
    this.sentOnThisConnection = false;
    this.waiting = undefined;
  }

  disconnected(): void {
    this.waiting = undefined;
  }

  send(sample: HealthSample): void {
    if (this.withPongs && this.sentOnThisConnection && this.waiting === undefined) {
      this.waiting = sample;
      return;
    }
    this.waiting = undefined;
    this.sentOnThisConnection = true;
    this.emit(sample);
  }

  /** Runs before engine.io writes the pong, so the sample goes first and the pong joins it. */
  private sendWaiting(transport: CorkableTransport): void {
    const sample = this.waiting;
    if (sample === undefined) return;
    this.waiting = undefined;
    const socket = transport.ws?._socket;
    socket?.cork();
    try {
      this.emit(sample);
    } finally {
      // After engine.io's next-tick flush of the pong; never left corked, or every write would stall.
      setImmediate(() => socket?.uncork());
    }
  }
}
