/**
 * The AMI exchanges the fake server must answer as a real Asterisk 22.10.1 does. Recorded from
 * the real one by test/real-asterisk/fake-ami.test.ts into test/fixtures/ami/real-asterisk.json,
 * replayed against the fake by test/asterisk/fake-ami-recorded.test.ts.
 */
import type { Exchange } from "./ami-exchange.js";

const wazo = { username: "wazo", secret: "wazosecret" };
const limited = { username: "limited", secret: "limited" };

/** The files of extensions_extra.d while the exchanges run (example.conf as instance.sh writes it). */
export const EXCHANGE_FILES: Record<string, string> = {
  "example.conf":
    "; An example subroutine, as a Wazo server ships one in this folder.\n[pre-example]\nexten = s,1,NoOp(example subroutine)\nsame  =   n,Return()\n",
  "helloworld.conf": "[xivo-extrafeatures]\nexten = ***42,1,Playback(hello-world)\nsame = n,Return()\n",
};

export const EXCHANGES: Exchange[] = [
  { name: "login accepted, Ping", login: wazo, request: [["Action", "Ping"]] },
  { name: "login refused", login: { username: "wazo", secret: "wrong" }, request: [["Action", "Ping"]] },
  {
    name: "action before login",
    request: [
      ["Action", "Command"],
      ["Command", "core show version"],
    ],
  },
  {
    name: "Reload refused to limited",
    login: limited,
    request: [
      ["Action", "Reload"],
      ["Module", "pbx_config"],
    ],
  },
  {
    name: "Command refused to limited",
    login: limited,
    request: [
      ["Action", "Command"],
      ["Command", "dialplan show"],
    ],
  },
  {
    name: "Reload pbx_config",
    login: wazo,
    request: [
      ["Action", "Reload"],
      ["Module", "pbx_config"],
    ],
  },
  {
    name: "Reload of an unknown module",
    login: wazo,
    request: [
      ["Action", "Reload"],
      ["Module", "nosuch"],
    ],
  },
  {
    name: "Reload of a module without reload",
    login: wazo,
    request: [
      ["Action", "Reload"],
      ["Module", "app_dial"],
    ],
  },
  {
    name: "dialplan show of a loaded extension",
    login: wazo,
    request: [
      ["Action", "Command"],
      ["Command", "dialplan show ***42@xivo-extrafeatures"],
    ],
  },
  {
    name: "dialplan show of a missing extension",
    login: wazo,
    request: [
      ["Action", "Command"],
      ["Command", "dialplan show ***99@xivo-extrafeatures"],
    ],
  },
  {
    name: "dialplan show of a missing context",
    login: wazo,
    request: [
      ["Action", "Command"],
      ["Command", "dialplan show ***42@nowhere"],
    ],
  },
  {
    name: "dialplan show of a context",
    login: wazo,
    request: [
      ["Action", "Command"],
      ["Command", "dialplan show pre-example"],
    ],
  },
  {
    name: "dialplan reload",
    login: wazo,
    request: [
      ["Action", "Command"],
      ["Command", "dialplan reload"],
    ],
  },
  {
    name: "module reload of an unknown module",
    login: wazo,
    request: [
      ["Action", "Command"],
      ["Command", "module reload nosuch"],
    ],
  },
  {
    name: "unknown CLI command",
    login: wazo,
    request: [
      ["Action", "Command"],
      ["Command", "nosuch command"],
    ],
  },
  { name: "unknown action", login: wazo, request: [["Action", "NoSuchAction"]] },
];
