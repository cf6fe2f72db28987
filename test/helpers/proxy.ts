/**
 * A TCP proxy of the test's own in front of a real server (PostgreSQL or Redis: it reads
 * no protocol), so a test can break the connection for real without touching the shared
 * service:
 * - cut(): stop listening and destroy every connection, as a crashed or unreachable
 *   server looks (new connections are refused, open ones are reset);
 * - hang(): keep accepting connections but pass nothing either way, as a frozen server
 *   or a network that drops packets looks (bytes wait, as TCP would keep them);
 * - holdReplies(): pass requests on but hold the server's replies, as a one-way
 *   partition looks: the server does the work (commits an insert) and the client hears
 *   nothing, so it cannot tell whether it happened;
 * - restore(): listen again on the same port and pass everything through again.
 */
import net from 'node:net';
import type { Teardown } from './services.js';

export interface TcpProxy {
  port: number;
  cut: () => Promise<void>;
  hang: () => void;
  holdReplies: () => void;
  restore: () => Promise<void>;
}

interface Link {
  client: net.Socket;
  upstream?: net.Socket;
}

export async function tcpProxy(t: Teardown, target: { host: string; port: number }): Promise<TcpProxy> {
  const links = new Set<Link>();
  let mode: 'flow' | 'hang' | 'hold-replies' = 'flow';

  const flow = (link: Link) => {
    if (!link.upstream) {
      const upstream = net.connect(target.port, target.host);
      link.upstream = upstream;
      upstream.once('error', () => link.client.destroy());
      upstream.once('close', () => link.client.destroy());
      link.client.once('close', () => upstream.destroy());
    }
    // Unpiped first: after holdReplies() the requests still flow, and a second pipe would send them twice.
    link.client.unpipe(link.upstream);
    link.client.pipe(link.upstream);
    link.upstream.pipe(link.client);
  };
  const stall = (link: Link) => {
    // Unpiped and paused, each side's bytes wait in its socket until restore().
    link.client.unpipe();
    link.client.pause();
    link.upstream?.unpipe();
    link.upstream?.pause();
  };
  const holdReply = (link: Link) => {
    flow(link);
    link.upstream?.unpipe();
    link.upstream?.pause();
  };

  const server = net.createServer((client) => {
    const link: Link = { client };
    links.add(link);
    client.once('error', () => client.destroy());
    client.once('close', () => links.delete(link));
    if (mode === 'hang') stall(link);
    else if (mode === 'hold-replies') holdReply(link);
    else flow(link);
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const port = await listen(0);

  const cut = async () => {
    mode = 'flow';
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const link of links) {
      link.client.destroy();
      link.upstream?.destroy();
    }
    await closed;
  };
  t.after(cut);
  return {
    port,
    cut,
    hang: () => {
      mode = 'hang';
      for (const link of links) stall(link);
    },
    holdReplies: () => {
      mode = 'hold-replies';
      for (const link of links) holdReply(link);
    },
    restore: async () => {
      mode = 'flow';
      if (!server.listening) await listen(port);
      for (const link of links) flow(link);
    },
  };
}
