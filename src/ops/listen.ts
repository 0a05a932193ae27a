// Listening on a uWS app with a promise and the real port (also for port 0).
import uWS from 'uWebSockets.js';
import { DamperError } from '../errors.js';

export interface Listening {
  port: number;
  /** Stops accepting; open connections stay until they close. */
  close(): void;
}

export function listenApp(app: uWS.TemplatedApp, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (!socket) {
        reject(new DamperError('DAMPER_ERR_LISTEN', `cannot listen on ${host}:${port}`));
        return;
      }
      let open = true;
      resolve({
        port: uWS.us_socket_local_port(socket as unknown as uWS.us_socket),
        close() {
          if (open) uWS.us_listen_socket_close(socket);
          open = false;
        },
      });
    });
  });
}
