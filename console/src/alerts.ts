// New-order alerts: a short chime (WebAudio: no audio file to download) and a count in
// the tab title until the page is looked at again.
let context: AudioContext | undefined;
let unseen = 0;
let baseTitle = document.title;

export function setBaseTitle(title: string): void {
  baseTitle = title;
  render();
}

function render(): void {
  document.title = unseen > 0 ? `(${unseen}) ${baseTitle}` : baseTitle;
  const badge = document.getElementById("orders-badge");
  if (badge) {
    badge.textContent = unseen > 0 ? String(unseen) : "";
    badge.hidden = unseen === 0;
  }
}

export function chime(): void {
  try {
    context ??= new AudioContext();
    const now = context.currentTime;
    for (const [offset, frequency] of [
      [0, 880],
      [0.18, 1175],
    ] as const) {
      const osc = context.createOscillator();
      const gain = context.createGain();
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.3, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.16);
      osc.connect(gain).connect(context.destination);
      osc.start(now + offset);
      osc.stop(now + offset + 0.17);
    }
  } catch {
    // No audio device (or autoplay blocked before any click): the badge still shows.
  }
}

export function announce(count: number): void {
  unseen += count;
  render();
  chime();
}

export function seen(): void {
  unseen = 0;
  render();
}

export function unseenCount(): number {
  return unseen;
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && location.hash.startsWith("#/orders")) seen();
});
// Browsers only let audio start after a gesture: unlock the context on the first one.
document.addEventListener(
  "pointerdown",
  () => {
    context ??= new AudioContext();
    void context.resume();
  },
  { once: true },
);
