// Data the fake AMI server answers with, copied from the Asterisk 22.10.1 recordings in
// shared/ami/ (listcommands.md, asterisk-22-transcripts.md).

/** An AMI user as in manager.conf: comma-separated classes, `all` meaning every class. */
export interface FakeAmiUser {
  secret: string;
  read: string;
  write: string;
}

/** The two users of the recordings' manager.conf. */
export const DEFAULT_USERS: Record<string, FakeAmiUser> = {
  wazo: { secret: "wazosecret", read: "all", write: "all" },
  limited: { secret: "limited", read: "system", write: "call" },
};

/** What `Action: Reload` does for a module. */
export type FakeReloadOutcome =
  /** `Success` / `Module Reloaded` (event Status 0). */
  | "ok"
  /** `Error` / `No such module` (Status 2): not loaded, or noload in modules.conf. */
  | "no-such-module"
  /** `Error` / `Module does not support reload` (Status 6). */
  | "not-supported"
  /** `Error` / `Module not initialized` (Status 5). */
  | "not-initialized"
  /** `Error` / `An unknown error occurred` (Status 3): e.g. a broken extensions.conf. */
  | "error";

/** Modules of the recorded PBX; any other name is `No such module`. */
export const DEFAULT_MODULES: Record<string, FakeReloadOutcome> = {
  pbx_config: "ok",
  app_playback: "ok",
  app_queue: "ok",
  app_voicemail: "ok",
  chan_pjsip: "ok",
  res_pjsip: "ok",
  res_musiconhold: "ok",
  app_dial: "not-supported",
  app_echo: "not-supported",
  codec_a_mu: "not-supported",
};

export const RELOAD_STATUS: Record<FakeReloadOutcome | "in-progress", number> = {
  ok: 0,
  "no-such-module": 2,
  error: 3,
  "in-progress": 4,
  "not-initialized": 5,
  "not-supported": 6,
};

export const RELOAD_MESSAGE: Record<FakeReloadOutcome | "in-progress", string> = {
  ok: "Module Reloaded",
  "no-such-module": "No such module",
  error: "An unknown error occurred",
  "in-progress": "A reload is in progress",
  "not-initialized": "Module not initialized",
  "not-supported": "Module does not support reload",
};

export const VERSION_LINE = "Asterisk 22.10.1 built by root @ fake-ami on a x86_64 running Linux on 2026-11-25 20:09:40 UTC";

/** ListCommands of user wazo (write = all): [name, description, privilege classes]. */
export const MANAGER_ACTIONS: ReadonlyArray<readonly [string, string, string]> = [
  ["AbsoluteTimeout", "Set absolute timeout.", "system,call,all"],
  ["AGI", "Add an AGI command to execute by Async AGI.", "agi,all"],
  ["AOCMessage", "Generate an Advice of Charge message on a channel.", "aoc,all"],
  ["Atxfer", "Attended transfer.", "call,all"],
  ["BlindTransfer", "Blind transfer channel(s) to the given destination", "call,all"],
  ["Bridge", "Bridge two channels already in the PBX.", "call,all"],
  ["BridgeDestroy", "Destroy a bridge.", "<none>"],
  ["BridgeInfo", "Get information about a bridge.", "<none>"],
  ["BridgeKick", "Kick a channel from a bridge.", "<none>"],
  ["BridgeList", "Get a list of bridges in the system.", "<none>"],
  ["BridgeTechnologyList", "List available bridging technologies and their statuses.", "<none>"],
  ["BridgeTechnologySuspend", "Suspend a bridging technology.", "<none>"],
  ["BridgeTechnologyUnsuspend", "Unsuspend a bridging technology.", "<none>"],
  ["CancelAtxfer", "Cancel an attended transfer.", "call,all"],
  ["Challenge", "Generate Challenge for MD5 Auth.", "<none>"],
  ["Command", "Execute Asterisk CLI Command.", "command,all"],
  ["ConfbridgeKick", "Kick a Confbridge user.", "call,all"],
  ["ConfbridgeList", "List participants in a conference.", "reporting,all"],
  ["ConfbridgeListRooms", "List active conferences.", "reporting,all"],
  ["ConfbridgeLock", "Lock a Confbridge conference.", "call,all"],
  ["ConfbridgeMute", "Mute a Confbridge user.", "call,all"],
  ["ConfbridgeSetSingleVideoSrc", "Set a conference user as the single video source distributed to all other participants.", "call,all"],
  ["ConfbridgeStartRecord", "Start recording a Confbridge conference.", "system,all"],
  ["ConfbridgeStopRecord", "Stop recording a Confbridge conference.", "system,all"],
  ["ConfbridgeUnlock", "Unlock a Confbridge conference.", "call,all"],
  ["ConfbridgeUnmute", "Unmute a Confbridge user.", "call,all"],
  ["CoreSettings", "Show PBX core settings (version etc).", "system,reporting,all"],
  ["CoreShowChannelMap", "List all channels connected to the specified channel.", "system,reporting,all"],
  ["CoreShowChannels", "List currently active channels.", "system,reporting,all"],
  ["CoreStatus", "Show PBX core status variables.", "system,reporting,all"],
  ["CreateConfig", "Creates an empty file in the configuration directory.", "config,all"],
  ["DBDel", "Delete DB entry.", "system,all"],
  ["DBDelTree", "Delete DB Tree.", "system,all"],
  ["DBGet", "Get DB Entry.", "system,reporting,all"],
  ["DBGetTree", "Get DB entries, optionally at a particular family/key", "system,reporting,all"],
  ["DBPut", "Put DB entry.", "system,all"],
  ["DeviceStateList", "List the current known device states.", "call,reporting,all"],
  ["DialplanExtensionAdd", "Add an extension to the dialplan", "system,all"],
  ["DialplanExtensionRemove", "Remove an extension from the dialplan", "system,all"],
  ["Events", "Control Event Flow.", "<none>"],
  ["ExtensionState", "Check Extension Status.", "call,reporting,all"],
  ["ExtensionStateList", "List the current known extension states.", "call,reporting,all"],
  ["Filter", "Dynamically add filters for the current manager session.", "system,all"],
  ["GetConfig", "Retrieve configuration.", "system,config,all"],
  ["GetConfigJSON", "Retrieve configuration (JSON format).", "system,config,all"],
  ["Getvar", "Gets a channel variable or function value.", "call,reporting,all"],
  ["Hangup", "Hangup channel.", "system,call,all"],
  ["ListCategories", "List categories in configuration file.", "config,all"],
  ["ListCommands", "List available manager commands.", "<none>"],
  ["LocalOptimizeAway", "Optimize away a local channel when possible.", "system,call,all"],
  ["LoggerRotate", "Reload and rotate the Asterisk logger.", "system,reporting,all"],
  ["Login", "Login Manager.", "<none>"],
  ["Logoff", "Logoff Manager.", "<none>"],
  ["MailboxCount", "Check Mailbox Message Count.", "call,reporting,all"],
  ["MailboxStatus", "Check mailbox.", "call,reporting,all"],
  ["MessageSend", "Send an out of call message to an endpoint.", "message,all"],
  [
    "MixMonitor",
    "Record a call and mix the audio during the recording.  Use of StopMixMonitor is required to guarantee the audio file is available for processing during dialplan execution.",
    "system,all",
  ],
  ["MixMonitorMute", "Mute / unMute a Mixmonitor recording.", "system,call,all"],
  ["ModuleCheck", "Check if module is loaded.", "system,all"],
  ["ModuleLoad", "Module management.", "system,all"],
  ["MuteAudio", "Mute an audio stream.", "system,all"],
  ["Originate", "Originate a call.", "originate,all"],
  ["Ping", "Keepalive command.", "<none>"],
  ["PlayDTMF", "Play DTMF signal on a specific channel.", "call,all"],
  ["PresenceState", "Check Presence State", "call,reporting,all"],
  ["PresenceStateList", "List the current known presence states.", "call,reporting,all"],
  ["Redirect", "Redirect (transfer) a call.", "call,all"],
  ["Reload", "Send a reload event.", "system,config,all"],
  ["SendFlash", "Send a hook flash on a specific channel.", "call,all"],
  [
    "SendText",
    "Sends a text message to channel. A content type\tcan be optionally specified. If not set it is set to an empty string allowing a custom handler to default it as it sees fit.",
    "call,all",
  ],
  ["Setvar", "Sets a channel variable or function value.", "call,all"],
  ["ShowDialPlan", "Show dialplan contexts and extensions", "config,reporting,all"],
  ["Status", "List channel status.", "system,call,reporting,all"],
  ["StopMixMonitor", "Stop recording a call through MixMonitor, and free the recording's file handle.", "system,call,all"],
  ["UpdateConfig", "Update basic configuration.", "config,all"],
  ["UserEvent", "Send an arbitrary event.", "user,all"],
  ["WaitEvent", "Wait for an event to occur.", "<none>"],
];
