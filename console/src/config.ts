export interface ConsoleConfig {
  apiBase: string;
  cognito: { endpoint: string; region: string; userPoolId: string; clientId: string };
  stage: string;
  pollSeconds: number;
  /** "real" (a LiveKit server with media), "fake" (the local SIP API stand-in), "offline". */
  livekit?: { mode: string };
}

let loaded: ConsoleConfig | undefined;

export async function loadConfig(): Promise<ConsoleConfig> {
  if (!loaded) {
    const answer = await fetch("config.json", { cache: "no-store" });
    if (!answer.ok) throw new Error(`config.json: ${answer.status}`);
    loaded = (await answer.json()) as ConsoleConfig;
  }
  return loaded;
}

export function config(): ConsoleConfig {
  if (!loaded) throw new Error("config not loaded");
  return loaded;
}
