// Sign-in against the Cognito user pool's JSON API (InitiateAuth, USER_PASSWORD_AUTH).
// The app client has no secret; the ID token lives in sessionStorage (gone with the tab).
import { config } from "./config";

export interface Session {
  idToken: string;
  tenantId: string;
  role: "owner" | "staff" | string;
  email: string;
  expiresAt: number;
}

const KEY = "atende.session";

export class SignInError extends Error {
  constructor(
    message: string,
    readonly code: string,
    /** NEW_PASSWORD_REQUIRED (an invited user's first sign-in): Cognito's session. */
    readonly session?: string,
  ) {
    super(message);
  }
}

function decode(token: string): Record<string, unknown> {
  const payload = token.split(".")[1] ?? "";
  const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
  return JSON.parse(decodeURIComponent(escape(json))) as Record<string, unknown>;
}

async function cognito(action: string, body: unknown): Promise<Record<string, unknown>> {
  const { endpoint } = config().cognito;
  const answer = await fetch(endpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
    },
    body: JSON.stringify(body),
  });
  const data = (await answer.json().catch(() => ({}))) as Record<string, unknown>;
  if (!answer.ok) {
    const code = String(data.__type ?? "Error").split("#").pop() ?? "Error";
    throw new SignInError(String(data.message ?? code), code);
  }
  return data;
}

export async function signIn(email: string, password: string): Promise<Session> {
  const answer = await cognito("InitiateAuth", {
    ClientId: config().cognito.clientId,
    AuthFlow: "USER_PASSWORD_AUTH",
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  return finish(answer);
}

/** An invited user's first sign-in: replace the temporary password. */
export async function setNewPassword(email: string, session: string, password: string): Promise<Session> {
  const answer = await cognito("RespondToAuthChallenge", {
    ClientId: config().cognito.clientId,
    ChallengeName: "NEW_PASSWORD_REQUIRED",
    Session: session,
    ChallengeResponses: { USERNAME: email, NEW_PASSWORD: password },
  });
  return finish(answer);
}

function finish(answer: Record<string, unknown>): Session {
  const result = answer.AuthenticationResult as { IdToken?: string } | undefined;
  if (!result?.IdToken) {
    throw new SignInError(String(answer.ChallengeName ?? "challenge"), "Challenge", answer.Session as string | undefined);
  }
  return remember(result.IdToken);
}

function remember(idToken: string): Session {
  const claims = decode(idToken);
  const session: Session = {
    idToken,
    tenantId: String(claims["custom:tenant_id"] ?? ""),
    role: String(claims["custom:role"] ?? ""),
    email: String(claims.email ?? claims["cognito:username"] ?? ""),
    expiresAt: Number(claims.exp ?? 0) * 1000,
  };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  return session;
}

export function currentSession(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  const session = JSON.parse(raw) as Session;
  if (session.expiresAt <= Date.now() + 30_000) {
    signOut();
    return null;
  }
  return session;
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}
