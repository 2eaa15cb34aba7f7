// Type declarations for asterisk-manager 0.2.0, written from its source (lib/ami.js), not from
// DefinitelyTyped: that package describes a fork whose `login(username, password, events, cb)`
// signature silently never calls back with the real module.
//
// Only src/asterisk/ami-connection.ts should import this module: the wrapper there adds what the
// module lacks (timeouts, typed errors, close handling, unique ActionIDs, a robust reader).
declare module "asterisk-manager" {
  namespace Manager {
    /**
     * A parsed message, as the module's reader builds it: header names lower-cased, values kept
     * after the first ": ", repeated headers collected into an array, `Variable:`/`ChanVariable:`
     * headers split on "=" into an object. An Asterisk 13 `Response: Follows` block becomes
     * `{ response: "follows", content, actionid }`.
     */
    interface ManagerMessage {
      response?: string;
      actionid?: string;
      event?: string;
      message?: string;
      content?: string;
      [header: string]: string | string[] | Record<string, string> | undefined;
    }

    /**
     * An action: keys are lower-cased then capitalised when written (`module` → `Module:`) and
     * sent sorted by name. `actionid` is taken as the ActionID (otherwise `Date.now()` is used,
     * which collides for actions sent in the same millisecond). Arrays are joined with ",",
     * plain objects become one `Key: name=value` line per entry.
     */
    interface ManagerAction {
      action: string;
      actionid?: string;
      [header: string]: string | number | boolean | string[] | Record<string, string> | undefined;
    }

    /** Called with `(response, response)` for `Response: Error`, `(undefined, response)` otherwise. */
    type ActionCallback = (error: ManagerMessage | undefined, response: ManagerMessage) => void;

    type Listener = (...args: any[]) => void;

    interface Instance {
      /** What the constructor received; `login()` reads username, password and events here. */
      readonly options: {
        port: number | undefined;
        host: string;
        username: string;
        password: string;
        events: boolean;
      };
      /**
       * Opens the TCP connection (keep-alive, no-delay, utf-8). `callback` runs on 'connect' only:
       * a failure to connect calls nothing, it only emits 'error', which the module itself
       * swallows with a no-op listener. Does nothing if a connection is already open.
       */
      connect(port: number, host: string, callback?: (error: null) => void): void;
      /**
       * Sends `Action: login` with the constructor's username and password and an `Event: on|off`
       * header (Asterisk ignores it: the real header is `Events`, so events always arrive).
       * Actions sent before the callback are held back and sent after a successful login.
       * No timeout: if the answer never comes, neither does the callback.
       */
      login(callback?: (error?: ManagerMessage) => void): void;
      /** Writes the action and registers `callback` under its ActionID; returns that ActionID. */
      action(action: ManagerAction, callback?: ActionCallback): string;
      /**
       * Ends the socket if it is open and forgets it. A socket that is still connecting is
       * forgotten but not closed (it leaks, and may still connect later).
       */
      disconnect(callback?: () => void): void;
      isConnected(): boolean;
      connected(): boolean;
      /**
       * Reconnects forever on 'close' (10 s, 20 s, … up to 60 s) and reports each try with
       * console.log. Never use it in a command-line tool.
       */
      keepConnected(): void;

      // The module copies only these EventEmitter methods onto the instance (no `off`, no
      // `prependListener`). Events: 'connect', 'close', 'end', 'error', 'rawevent',
      // 'response', 'managerevent', 'asterisk', each lower-cased event name, and each ActionID.
      on(event: string, listener: Listener): void;
      once(event: string, listener: Listener): void;
      addListener(event: string, listener: Listener): void;
      removeListener(event: string, listener: Listener): void;
      removeAllListeners(event?: string): void;
      listeners(event: string): Listener[];
      setMaxListeners(count: number): void;
      emit(event: string, ...args: unknown[]): boolean;
    }
  }

  interface ManagerConstructor {
    /**
     * With a `port`, connects and logs in at once with no way to observe the outcome. Pass
     * `undefined` and call `connect()` then `login()` yourself. Works with or without `new`.
     */
    new (port: number | undefined, host: string, username: string, password: string, events?: boolean): Manager.Instance;
    (port: number | undefined, host: string, username: string, password: string, events?: boolean): Manager.Instance;
  }

  const Manager: ManagerConstructor;
  export = Manager;
}
