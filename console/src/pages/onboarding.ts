// The onboarding wizard: each step shows where the restaurant stands and links to the page
// that completes it. The browser test call mints a token (POST /test-call-token) and, when
// the platform has a LiveKit server, joins the room with livekit-client loaded on demand.
import { api } from "../api";
import { config } from "../config";
import { h, mount } from "../dom";
import { t } from "../i18n";

interface TestCallToken { token: string; livekit_url: string | null; room_name: string; agent_name: string }
interface Phone { number: string; status?: string }

export function onboardingPage(root: HTMLElement): void {
  mount(root, h("p", { class: "loading" }, t("common.loading")));
  void (async () => {
    const [tenant, menu, phones] = await Promise.all([
      api<{ name: string; status: string }>("GET", "").catch(() => null),
      api<{ menu: { items: unknown[] } }>("GET", "/menu").catch(() => null),
      api<{ items: Phone[] }>("GET", "/phone-numbers").catch(() => null),
    ]);
    const status = h("p", { class: "muted", role: "status", "data-testid": "test-call-status" });
    const step = (title: string, done: boolean, ...body: (Node | string | null)[]) =>
      h("li", { class: done ? "step done" : "step" }, h("h2", {}, done ? "✓ " : "", title), ...body);
    mount(
      root,
      h("header", { class: "page-head" }, h("h1", {}, t("onboarding.title"))),
      h(
        "ol",
        { class: "wizard" },
        step(t("onboarding.business"), Boolean(tenant), h("p", {}, tenant?.name ?? ""), h("a", { href: "#/settings" }, t("nav.settings"))),
        step(t("onboarding.menu"), Boolean(menu?.menu.items.length), h("p", {}, `${menu?.menu.items.length ?? 0} itens`), h("a", { href: "#/menu" }, t("nav.menu"))),
        step(t("onboarding.number"), Boolean(phones?.items.length), h("p", {}, (phones?.items ?? []).map((p) => p.number).join(", ") || t("common.none"))),
        step(
          t("onboarding.test"),
          false,
          h("button", { class: "primary", "data-testid": "test-call", onclick: () => void testCall(status) }, t("onboarding.testStart")),
          status,
        ),
        step(t("onboarding.live"), tenant?.status === "active", h("p", {}, tenant?.status ?? "")),
      ),
    );
  })();
}

async function testCall(status: HTMLElement): Promise<void> {
  status.textContent = t("common.loading");
  let grant: TestCallToken;
  try {
    grant = await api<TestCallToken>("POST", "/test-call-token");
  } catch (error) {
    status.textContent = t("common.error", { message: (error as Error).message });
    return;
  }
  const mode = config().livekit?.mode ?? "real";
  if (!grant.livekit_url || mode !== "real") {
    status.textContent = t("onboarding.noAudio", {
      reason:
        mode === "fake"
          ? `token issued for room ${grant.room_name}, but the local LiveKit is the stand-in of its SIP API (no media server). Run \`make media\` and \`ATENDE_MEDIA=real make run\` to talk to the agent here.`
          : `token issued for room ${grant.room_name}, but this platform has no LiveKit server (LIVEKIT_URL unset).`,
    });
    return;
  }
  if (!navigator.mediaDevices?.getUserMedia) {
    status.textContent = t("onboarding.noAudio", { reason: "this browser gives no microphone access on this page (HTTPS or localhost only)." });
    return;
  }
  // Loaded only here: the LiveKit client is most of the app's weight.
  const { Room, RoomEvent, Track } = await import("livekit-client");
  const room = new Room();
  room.on(RoomEvent.TrackSubscribed, (track) => {
    if (track.kind === Track.Kind.Audio) document.body.append(track.attach());
  });
  room.on(RoomEvent.Disconnected, () => (status.textContent = t("onboarding.ended")));
  try {
    await room.connect(grant.livekit_url.replace(/^http/, "ws"), grant.token);
    await room.localParticipant.setMicrophoneEnabled(true);
    status.textContent = t("onboarding.connected", { room: grant.room_name });
    const hangup = h("button", { class: "danger", onclick: () => void room.disconnect() }, t("onboarding.hangup"));
    status.after(hangup);
    room.on(RoomEvent.Disconnected, () => hangup.remove());
  } catch (error) {
    status.textContent = t("onboarding.noAudio", { reason: `could not connect to ${grant.livekit_url}: ${(error as Error).message}` });
    await room.disconnect();
  }
}
