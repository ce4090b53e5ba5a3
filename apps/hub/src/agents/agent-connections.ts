import { Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';

/** The agents connected to this hub process, by id: one live socket each. */
@Injectable()
export class AgentConnections {
  private readonly sockets = new Map<string, Socket>();

  /** Registers a socket; an older socket of the same agent is cut, so one identity has one link. */
  register(agentId: string, socket: Socket): void {
    const previous = this.sockets.get(agentId);
    this.sockets.set(agentId, socket);
    if (previous && previous !== socket) previous.disconnect(true);
  }

  unregister(agentId: string, socket: Socket): void {
    if (this.sockets.get(agentId) === socket) this.sockets.delete(agentId);
  }

  get(agentId: string): Socket | undefined {
    return this.sockets.get(agentId);
  }

  disconnect(agentId: string): boolean {
    const socket = this.sockets.get(agentId);
    if (!socket) return false;
    this.sockets.delete(agentId);
    socket.disconnect(true);
    return true;
  }
}
